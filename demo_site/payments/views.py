"""The Payments API (``/api/transfers/``) and a page listing what it executed.

``POST`` executes a transfer only if the access token carries a
``money_transfer`` detail that matches it exactly and has not been used yet;
``GET`` lists the transfers made for the token's subject (the user, or the
client acting for itself), and only for a token that may read them: an
``account_information`` detail with the ``read_transactions`` action (least
privilege: a token for one payment does not read the history).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.shortcuts import render
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from rar_provider.drf import (
    HasAuthorizationDetail,
    JSONParser,
    JWTAccessTokenAuthentication,
    insufficient_authorization,
)

from .matching import closest, mismatched_fields
from .models import Transfer
from .serializers import TransferRequestSerializer, transfer_json

API_IDENTIFIER = "urn:demo:payments"
DETAIL_TYPE = "money_transfer"
#: What a token needs to list transfers: reading the account's transactions.
READ_TYPE, READ_ACTION = "account_information", "read_transactions"


class PaymentsTokenAuthentication(JWTAccessTokenAuthentication):
    """Access tokens issued for this API (``aud: urn:demo:payments``), refused once revoked.

    The API runs beside the authorization server and is registered with *refuse revoked tokens at
    once* (admin → APIs), so the guard asks the database whether the token is still live: a revoked
    consent, RFC 7009 revocation or a replayed code end it at once.
    """

    audience = API_IDENTIFIER


class TransfersView(APIView):
    authentication_classes = [PaymentsTokenAuthentication]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]

    def get_permissions(self):
        if self.request.method == "POST":
            return [HasAuthorizationDetail.of(DETAIL_TYPE)()]
        return [HasAuthorizationDetail.of(READ_TYPE, actions=[READ_ACTION])()]

    def get(self, request):
        transfers = Transfer.objects.filter(client_id=request.auth.client_id)
        if request.auth.is_client_token:
            transfers = transfers.filter(user=None)
        else:
            transfers = transfers.filter(user=request.user)
        return Response({"transfers": [transfer_json(transfer) for transfer in transfers]})

    def post(self, request):
        serializer = TransferRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token = request.auth
        candidates = [
            (index, detail)
            for index, detail in enumerate(token.authorization_details)
            if detail.get("type") == DETAIL_TYPE
        ]
        exact = [index for index, detail in candidates if not mismatched_fields(detail, data)]
        if not exact:
            _, fields = closest(candidates, data)
            raise insufficient_authorization(
                request,
                f"{', '.join(fields)} of this transfer {'does' if len(fields) == 1 else 'do'} not match "
                f"the approved {DETAIL_TYPE} authorization detail",
            )
        # Spent per approved entry: a refreshed or narrowed token of the same approval spends the same.
        used = set(
            Transfer.objects.filter(
                grant_id=token.grant_id, grant_entry__in=[token.grant_entry(index) for index in exact]
            ).values_list("grant_entry", flat=True)
        )
        for index in exact:
            if token.grant_entry(index) in used:
                continue
            transfer = self._execute(request, index, data)
            if transfer is not None:
                return Response(transfer_json(transfer), status=status.HTTP_201_CREATED)
        raise insufficient_authorization(
            request, f"the approved {DETAIL_TYPE} was already executed for this approval (one transfer each)"
        )

    def _execute(self, request, index: int, data: dict) -> Transfer | None:
        """Record the transfer; None if a concurrent request spent this detail first."""
        detail = request.auth.authorization_details[index]
        amount = data["instructedAmount"]
        try:
            with transaction.atomic():
                return Transfer.objects.create(
                    user=None if request.auth.is_client_token else request.user,
                    client_id=request.auth.client_id,
                    token_jti=request.auth.jti,
                    detail_index=index,
                    grant_id=request.auth.grant_id,
                    grant_entry=request.auth.grant_entry(index),
                    authorization_detail=detail,
                    amount=amount["amount"],
                    currency=amount["currency"],
                    source_account=data["sourceAccount"],
                    destination_account=data["destinationAccount"],
                    beneficiary=data["beneficiary"],
                    subject=data.get("subject", detail.get("subject", "")),
                )
        except IntegrityError:
            return None


@login_required
def transfer_list(request):
    """The transfers executed for the logged-in user (an HTML page of the demo)."""
    transfers = Transfer.objects.filter(user=request.user)
    return render(request, "payments/transfers.html", {"transfers": transfers})
