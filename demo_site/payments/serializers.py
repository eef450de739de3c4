"""The API's JSON: a transfer request mirrors the money_transfer detail's fields."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from .models import Transfer


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a payments API should not silently drop input)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field is not accepted."] for name in unknown})
        return super().to_internal_value(data)


class InstructedAmountSerializer(StrictSerializer):
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.RegexField(r"^[A-Z]{3}$")


class TransferRequestSerializer(StrictSerializer):
    """``POST /api/transfers/``: the transfer to execute (field names as in money_transfer)."""

    instructedAmount = InstructedAmountSerializer()  # noqa: N815 (JSON field names)
    sourceAccount = serializers.CharField(max_length=255)  # noqa: N815
    destinationAccount = serializers.CharField(max_length=255)  # noqa: N815
    beneficiary = serializers.CharField(max_length=255)
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True)


def transfer_json(transfer: Transfer) -> dict:
    """An executed transfer, in the API's shape."""
    return {
        "id": transfer.pk,
        "instructedAmount": {"amount": str(transfer.amount), "currency": transfer.currency},
        "sourceAccount": transfer.source_account,
        "destinationAccount": transfer.destination_account,
        "beneficiary": transfer.beneficiary,
        "subject": transfer.subject,
        "clientId": transfer.client_id,
        "executedAt": transfer.executed_at.isoformat(),
    }
