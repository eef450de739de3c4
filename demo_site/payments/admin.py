from django.contrib import admin

from .models import Transfer


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = ("executed_at", "amount", "currency", "beneficiary", "user", "client_id")
    list_filter = ("currency", "client_id")
    search_fields = ("beneficiary", "token_jti")
    readonly_fields = [field.name for field in Transfer._meta.fields]

    def has_add_permission(self, request):
        return False
