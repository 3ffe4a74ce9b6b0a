"""Built-in named lists a model can refer to as ``builtin:<name>``.

Kept as immutable data: a model that says ``personal_domains: builtin:personal_email_domains``
gets the same list on every machine and in every engine.
"""

from __future__ import annotations

from types import MappingProxyType

PERSONAL_EMAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "hotmail.com",
    "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com",
    "me.com", "mac.com", "protonmail.com", "proton.me", "gmx.com", "gmx.de", "gmx.net", "web.de",
    "mail.com", "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "qq.com", "163.com", "126.com",
    "rediffmail.com", "libero.it", "orange.fr", "free.fr", "laposte.net", "t-online.de", "comcast.net",
    "verizon.net", "att.net", "sbcglobal.net", "btinternet.com", "fastmail.com", "hey.com", "tutanota.com",
)

DISPOSABLE_EMAIL_DOMAINS = (
    "mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.com", "trashmail.com",
    "yopmail.com", "sharklasers.com", "getnada.com", "dispostable.com", "throwawaymail.com",
)

BUILTIN_LISTS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "personal_email_domains": PERSONAL_EMAIL_DOMAINS,
    "disposable_email_domains": DISPOSABLE_EMAIL_DOMAINS,
})
