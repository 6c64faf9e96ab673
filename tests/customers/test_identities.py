"""Identity normalisation: e-mail lower-cased, phone to E.164, unknown kinds refused."""

from __future__ import annotations

import pytest

from cxm.core.errors import InvalidInput
from cxm.customers.identities import normalise, normalise_all, parse_reference


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("email", "  Ann.Novak@Example.COM ", ("email", "ann.novak@example.com")),
        ("phone", "+420 777 123 456", ("phone", "+420777123456")),
        ("phone", "0048 601 234 567", ("phone", "+48601234567")),
        ("social:Twitter", "@AnnN", ("social:twitter", "annn")),
        ("loyalty_card", "ab 12 34", ("loyalty_card", "AB1234")),
        ("external_id", " crm-17 ", ("external_id", "crm-17")),
    ],
)
def test_identities_are_normalised(kind: str, value: str, expected: tuple[str, str]) -> None:
    assert normalise(kind, value) == expected


def test_national_phone_needs_a_region() -> None:
    assert normalise("phone", "777 123 456", region="cz") == ("phone", "+420777123456")
    with pytest.raises(InvalidInput, match="phone"):
        normalise("phone", "777 123 456")


@pytest.mark.parametrize(
    ("kind", "value"), [("email", "not-an-email"), ("phone", "+1 23"), ("fax", "1"), ("email", " ")]
)
def test_bad_identities_are_refused(kind: str, value: str) -> None:
    with pytest.raises(InvalidInput):
        normalise(kind, value)


def test_references_parse_social_handles() -> None:
    assert parse_reference("social:instagram:@Ann") == ("social:instagram", "ann")
    assert parse_reference("email:ANN@example.com") == ("email", "ann@example.com")
    with pytest.raises(InvalidInput):
        parse_reference("ann@example.com")


def test_normalise_all_deduplicates_and_sorts() -> None:
    keys = normalise_all({"phone": "+420777123456", "email": "A@b.cz"})
    assert keys == (("email", "a@b.cz"), ("phone", "+420777123456"))


def email_validator_says(value: str) -> str | None:
    """What email-validator alone makes of an address (lower-cased), or None when it refuses it."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def test_fast_email_path_agrees_with_email_validator() -> None:
    import random

    from cxm.customers.identities import plain_email

    rng = random.Random(7)
    alphabet = "abcXYZ019._+-@"
    tricky = ["a@x.local", "a@b.arpa", "a@x.123", "-a@x.cz", "a@x-.cz", "a.@x.cz", "a@x..cz", "a" * 65 + "@x.cz"]
    samples = tricky + ["".join(rng.choice(alphabet) for _ in range(rng.randrange(3, 14))) + ".cz" for _ in range(3000)]
    accepted = 0
    for sample in samples:
        fast = plain_email(sample)
        if fast is not None:
            accepted += 1
            assert fast == email_validator_says(sample), sample
    assert accepted > 100


def test_default_phone_region_reads_national_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from cxm.config import default_phone_region
    from cxm.customers import identities

    def forget() -> None:
        for cached in (default_phone_region, identities.normal_phone, identities._normalised):
            cached.cache_clear()

    monkeypatch.setenv("CXM_DEFAULT_PHONE_REGION", "PL")
    forget()
    try:
        assert normalise("phone", "601 234 567") == ("phone", "+48601234567")
        assert normalise("phone", "777 123 456", region="CZ") == ("phone", "+420777123456")
    finally:
        monkeypatch.delenv("CXM_DEFAULT_PHONE_REGION")
        forget()
    with pytest.raises(InvalidInput):
        normalise("phone", "601 234 567")
