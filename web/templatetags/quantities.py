"""Quantities as people read them: kilograms to the gram, without trailing zeros, thousands grouped."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def kg(value) -> str:
    """Decimal("78.500") → "78.5", Decimal("12000") → "12,000"; empty for None."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
