"""A transfer the demo Payments API executed (nothing moves: it is a record)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rar_provider.fields import OrderedJSONField


class Transfer(models.Model):
    """One executed money transfer and the approved entry that authorized it.

    A ``money_transfer`` authorization detail authorizes one transfer per approval: the pair
    (``grant_id``, the entry's position in the approval) is unique, so neither the same token nor a
    refreshed or narrowed one minted from the same approval can spend it twice (issue 13).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="demo_transfers",
        help_text="The user the client acted for; empty when the client acted for itself.",
    )
    client_id = models.CharField(max_length=100)
    token_jti = models.CharField("access token jti", max_length=255)
    detail_index = models.PositiveSmallIntegerField(
        help_text="Position of the authorizing entry in the token's authorization_details."
    )
    grant_id = models.CharField(
        "grant ID", max_length=255, default="", help_text="The approval the token came from (grant_id)."
    )
    grant_entry = models.PositiveSmallIntegerField(
        default=0, help_text="Position of the authorizing entry in the approval."
    )
    authorization_detail = OrderedJSONField(help_text="The money_transfer entry the user approved.")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    source_account = models.CharField(max_length=255)
    destination_account = models.CharField(max_length=255)
    beneficiary = models.CharField(max_length=255)
    subject = models.CharField(max_length=255, blank=True)
    executed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-executed_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("grant_id", "grant_entry"), name="payments_one_transfer_per_approved_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} to {self.beneficiary}"
