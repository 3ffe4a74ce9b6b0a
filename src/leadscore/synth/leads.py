"""Synthetic leads: people, their email addresses, channels, and their hidden propensity to buy.

A lead's latent propensity is an additive score of fit (industry, seniority, function, size, tier,
tech stack, region, channel, account intent) and negatives (personal, competitor or malformed email,
students, unsupported countries) plus personal noise. Outcomes and events are both drawn from it,
which is why a sensible rule model can recover it only partly: the noise is what keeps the demo's
AUC in a realistic 0.75-0.85 band rather than near 1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.synth.accounts import AccountDraw, country_region, country_weights
from leadscore.synth.catalog import (
    CAMPAIGN_THEMES,
    COMPETITOR_DOMAINS,
    COUNTRIES,
    FIRST_NAMES,
    FUNCTIONS,
    INDUSTRIES,
    INDUSTRY_OTHER,
    LAST_NAMES,
    PERSONAL_DOMAINS,
    REGIONS,
    SENIORITIES,
    SMALL_BUSINESS_WORDS,
    SOURCE_OUTBOUND,
    SOURCES,
    TITLES,
    UNSUPPORTED_COUNTRIES,
)
from leadscore.synth.columns import (
    US_PER_DAY,
    US_PER_SECOND,
    BoolArray,
    FloatArray,
    IntArray,
    choose,
    choose_within,
    floor_seconds,
    rank_within,
    strings,
    timestamps,
)

NO_ACCOUNT_SHARE = 0.045  # plus competitors, who never map to an account: about 5% in all
COMPETITOR_SHARE = 0.005
MALFORMED_SHARE = 0.01
DUPLICATE_SHARE = 0.01
# Everyday events drawn per lead on average; after dropping those beyond the horizon or to
# suppressed addresses, and adding the buying journey, this nets about 20 per lead.
MEAN_BACKGROUND_EVENTS = 19.5
SENIORITY_STUDENT = [s[0] for s in SENIORITIES].index("student")
# Email local-part patterns, by pattern id (see ``_local_parts``).
LOCAL_PATTERNS = ("first.last", "flast", "first", "first_last", "firstlast")


@dataclass(frozen=True)
class LeadDraw:
    """The leads' profile columns plus the hidden per-lead arrays outcomes and events need."""

    table: pa.Table  # profile columns only; outcome columns are appended by ``outcomes``
    created: IntArray  # epoch microseconds
    propensity: FloatArray  # latent log-odds of buying, centred on 0
    engagement: FloatArray  # latent activity level: drives event counts and MQL
    expected_events: FloatArray  # mean number of background events
    employees: IntArray  # 1 for leads without an account
    tier: IntArray  # 0..3 as in ``AccountDraw.tier``
    industry: IntArray
    seniority: IntArray
    function: IntArray
    student: BoolArray
    competitor: BoolArray
    personal: BoolArray
    malformed: BoolArray
    unsupported: BoolArray


def _pick_duplicates(rng: np.random.Generator, created: IntArray, as_of_us: int) -> tuple[IntArray, IntArray]:
    """Choose ~1% of rows to become re-registrations of an earlier lead: (duplicate rows, originals)."""
    n = len(created)
    eligible = np.flatnonzero(created < as_of_us - US_PER_DAY)
    n_dup = min(round(DUPLICATE_SHARE * n), len(eligible) // 2)
    if n_dup == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    chosen = rng.choice(eligible, 2 * n_dup, replace=False)
    return chosen[:n_dup].astype(np.int64), chosen[n_dup:].astype(np.int64)


def _local_parts(first: IntArray, last: IntArray, pattern: IntArray, number: IntArray) -> pa.Array:
    """Email local parts from name indices, a pattern index and an optional number (0 = none)."""
    f, ln = strings(FIRST_NAMES, first), strings(LAST_NAMES, last)
    initial = pc.utf8_slice_codeunits(f, 0, 1)
    variants = {
        "first.last": pc.binary_join_element_wise(f, ln, "."),
        "flast": pc.binary_join_element_wise(initial, ln, ""),
        "first": f,
        "first_last": pc.binary_join_element_wise(f, ln, "_"),
        "firstlast": pc.binary_join_element_wise(f, ln, ""),
    }
    local = variants[LOCAL_PATTERNS[0]]
    for k, name in enumerate(LOCAL_PATTERNS[1:], start=1):
        local = pc.if_else(pa.array(pattern == k), variants[name], local)
    suffix = pc.if_else(pa.array(number > 0), pc.cast(pa.array(number), pa.string()), "")
    return pc.binary_join_element_wise(local, suffix, "")


def _unique_emails(local: pa.Array, domain: pa.Array, skip: BoolArray) -> pa.Array:
    """``local@domain``, numbering the second and later holders of an address ("john.smith2").

    Everything is still lower case here, so uniqueness is also case-insensitive. Rows in ``skip``
    (re-registrations, overwritten later) take no part. Checks again after numbering, since a
    numbered address could in principle exist already; in practice one round suffices.
    """
    skip_keys = -1 - np.arange(len(skip), dtype=np.int64)
    for _ in range(8):
        email = pc.binary_join_element_wise(local, domain, "@")
        keys = pc.dictionary_encode(email).indices.to_numpy().astype(np.int64)  # all lower case here
        rank = rank_within(np.where(skip, skip_keys, keys))
        if not (rank > 0).any():
            return email
        local = pc.if_else(pa.array(rank > 0),
                           pc.binary_join_element_wise(local, pc.cast(pa.array(rank + 1), pa.string()), ""),
                           local)
    raise RuntimeError("email de-duplication did not converge")  # pragma: no cover


def _malform(rng: np.random.Generator, local: pa.Array, domain: pa.Array) -> pa.Array:
    """The three ways an address is broken in real exports: no '@', '@@', no dot after the '@'."""
    kind = rng.integers(0, 3, len(local))
    no_at = pc.binary_join_element_wise(local, domain, "")
    double_at = pc.binary_join_element_wise(local, domain, "@@")
    no_dot = pc.binary_join_element_wise(local, pc.replace_substring(domain, ".", ""), "@")
    return pc.if_else(pa.array(kind == 0), no_at, pc.if_else(pa.array(kind == 1), double_at, no_dot))


def _campaigns(created: IntArray, source: IntArray, theme: IntArray) -> pa.Array:
    """"<year>-q<quarter>-<source>-<theme>" (e.g. "2025-q3-webinar-scoring-101")."""
    months = created.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    quarter = months // 3  # quarters since 1970
    q0 = int(quarter.min()) if len(quarter) else 0
    labels = [f"{1970 + q // 4}-q{q % 4 + 1}" for q in range(q0, int(quarter.max(initial=q0)) + 1)]
    names = [f"{SOURCES[s][0]}-{t[0]}" for s in range(len(SOURCES)) for t in CAMPAIGN_THEMES[SOURCES[s][0]]]
    return pc.binary_join_element_wise(strings(labels, quarter - q0), strings(names, theme), "-")


@dataclass(frozen=True)
class _People:
    """Who each lead is: everything a re-registration shares with its original record."""

    account: IntArray  # 0-based account position (meaningless where ``no_account``)
    no_account: BoolArray
    competitor: BoolArray
    title: IntArray
    country: IntArray
    personal: BoolArray
    malformed: BoolArray
    first: IntArray
    last: IntArray
    pattern: IntArray
    number: IntArray
    noise: FloatArray  # the person's unobserved part of the propensity

    def take(self, idx: IntArray) -> _People:
        """Rows ``idx`` of every attribute."""
        return _People(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def _draw_people(rng: np.random.Generator, n: int, acc: AccountDraw) -> _People:
    """Who the leads are. Students use personal mailboxes more; leads without an account mostly do."""
    n_acc = len(acc.industry)
    weight = acc.employees ** 0.35 * rng.lognormal(0.0, 1.0, n_acc)  # big accounts bring more leads
    account = rng.choice(n_acc, n, p=weight / weight.sum()).astype(np.int64)
    competitor = rng.random(n) < COMPETITOR_SHARE
    no_account = competitor | (rng.random(n) < NO_ACCOUNT_SHARE)
    title = choose(rng, [t[3] for t in TITLES], n)
    moved = no_account | (rng.random(n) < 0.1)  # a tenth work away from the account's country
    country = np.where(moved, choose(rng, country_weights(), n), acc.country[account])
    student = _title_seniority()[title] == SENIORITY_STUDENT
    personal = ~competitor & (rng.random(n) < np.where(no_account, 0.6, np.where(student, 0.5, 0.06)))
    # Only the ~87% of business addresses can be mistyped; scale up so ~1% of all leads are.
    malformed = ~competitor & ~personal & (rng.random(n) < MALFORMED_SHARE / 0.87)
    business_pattern = choose(rng, [0.5, 0.25, 0.1, 0.15], n)
    pattern = np.where(personal, np.where(rng.random(n) < 0.5, 0, 4), business_pattern)
    number = np.where(personal & (rng.random(n) < 0.5), rng.integers(1960, 2006, n), 0)  # birth years
    return _People(
        account=account, no_account=no_account, competitor=competitor, title=title, country=country,
        personal=personal, malformed=malformed, first=rng.integers(0, len(FIRST_NAMES), n),
        last=rng.integers(0, len(LAST_NAMES), n), pattern=pattern.astype(np.int64),
        number=number.astype(np.int64), noise=rng.normal(0.0, 1.0, n),
    )


def _title_seniority() -> IntArray:
    """Seniority index of each title index."""
    names = [s[0] for s in SENIORITIES]
    return np.array([names.index(t[1]) for t in TITLES], dtype=np.int64)


def _title_function() -> IntArray:
    """Function index of each title index."""
    names = [f[0] for f in FUNCTIONS]
    return np.array([names.index(t[2]) for t in TITLES], dtype=np.int64)


def _emails(rng: np.random.Generator, p: _People, acc: AccountDraw, original_of: IntArray) -> pa.Array:
    """Addresses at the account's domain, a personal mailbox, a competitor, or a one-person business.

    Re-registrations (``original_of >= 0``) reuse their original's address, half of them typed
    in capitals. About 4% are capitalised ("John.Smith@..."), 1% all upper case.
    """
    n = len(p.first)
    is_dup = original_of >= 0
    local = _local_parts(p.first, p.last, p.pattern, p.number)
    small = pc.binary_join_element_wise(strings(LAST_NAMES, p.last), strings(
        SMALL_BUSINESS_WORDS, rng.integers(0, len(SMALL_BUSINESS_WORDS), n)), ".com", "")
    account_domain = acc.table["domain"].combine_chunks().take(pa.array(p.account))
    domain = pc.if_else(pa.array(p.no_account), small, account_domain)
    domain = pc.if_else(pa.array(p.personal), strings(PERSONAL_DOMAINS, rng.integers(0, 4, n)), domain)
    domain = pc.if_else(pa.array(p.competitor), strings(COMPETITOR_DOMAINS, rng.integers(0, 3, n)), domain)
    email = _unique_emails(local, domain, is_dup)
    local = pc.list_element(pc.split_pattern(email, "@"), 0)
    case = rng.random(n)
    local = pc.if_else(pa.array(case < 0.04), pc.utf8_title(local), local)
    email = pc.binary_join_element_wise(local, domain, "@")
    email = pc.if_else(pa.array(p.malformed), _malform(rng, local, domain), email)
    email = pc.if_else(pa.array(case > 0.99), pc.utf8_upper(email), email)
    retyped = pc.if_else(pa.array(rng.random(n) < 0.5), pc.utf8_upper(email), email)
    return pc.if_else(pa.array(is_dup), retyped.take(pa.array(np.maximum(original_of, 0))), email)


def draw_leads(rng: np.random.Generator, n: int, acc: AccountDraw, start_us: int, as_of_us: int) -> LeadDraw:
    """Draw ``n`` leads created in ``[start_us, as_of_us)``; ``lead_id`` 1..n follows creation order."""
    people = _draw_people(rng, n, acc)
    span = as_of_us - start_us
    created = floor_seconds(start_us + (rng.random(n) ** 0.8 * span).astype(np.int64))  # volume grows

    # Re-registrations: the same person (and address) again, later, maybe through another channel.
    dup, orig = _pick_duplicates(rng, created, as_of_us)
    source_row = np.arange(n, dtype=np.int64)
    source_row[dup] = orig
    people = people.take(source_row)
    gap = ((as_of_us - created[orig] - 2 * US_PER_SECOND) * rng.random(len(dup)) ** 3).astype(np.int64)
    created[dup] = floor_seconds(created[orig] + US_PER_SECOND + gap)

    # Creation order defines lead_id, as in a CRM with an auto-increment key.
    order = np.argsort(created, kind="stable")
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    original_of = np.full(n, -1, dtype=np.int64)
    original_of[position[dup]] = position[orig]
    people, created = people.take(order), created[order]

    has_acc = ~people.no_account
    aidx = people.account
    tier = np.where(has_acc, acc.tier[aidx], 0)
    source = choose(rng, [s[1] for s in SOURCES], n)
    source = np.where((tier > 0) & (rng.random(n) < 0.25), SOURCE_OUTBOUND, source)  # ABM outreach
    theme_rows = [(s, t) for s in range(len(SOURCES)) for t in CAMPAIGN_THEMES[SOURCES[s][0]]]
    theme = choose_within(rng, source, [t[1] for _, t in theme_rows], [s for s, _ in theme_rows])
    email = _emails(rng, people, acc, original_of)

    industry = np.where(has_acc, acc.industry[aidx], INDUSTRY_OTHER)
    employees = np.where(has_acc, acc.employees[aidx], 1)
    sen = _title_seniority()[people.title]
    fun = _title_function()[people.title]
    student = sen == SENIORITY_STUDENT
    region = country_region()[people.country]
    unsupported_ids = [i for i, c in enumerate(COUNTRIES) if c[0] in UNSUPPORTED_COUNTRIES]
    unsupported = np.isin(people.country, unsupported_ids)
    personal, competitor, malformed = people.personal, people.competitor, people.malformed
    z = (np.array([i[2] for i in INDUSTRIES])[industry] + np.array([s[1] for s in SENIORITIES])[sen]
         + np.array([f[1] for f in FUNCTIONS])[fun] + 0.3 * np.log10(employees)
         + np.array([r[2] for r in REGIONS])[region] + np.array([s[2] for s in SOURCES])[source]
         + np.array([t[2] for _, t in theme_rows])[theme] + np.where(has_acc, acc.effect[aidx], -0.3)
         - 1.0 * personal - 3.5 * competitor - 1.2 * malformed - 1.5 * unsupported + people.noise)
    z -= z.mean()
    # Students and competitors read a lot and never buy: engagement alone is a trap.
    engagement = 0.65 * z + rng.normal(0.0, 0.9, n) + 1.0 * student + 1.3 * competitor
    lam = np.exp(0.5 * engagement) * rng.gamma(0.5, 2.0, n)
    lam *= MEAN_BACKGROUND_EVENTS / lam.mean()
    cost = np.round(np.array([s[3] for s in SOURCES])[source] * rng.lognormal(0.0, 0.3, n), 2)

    table = pa.table({
        "lead_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "account_id": pa.array(aidx + 1, mask=people.no_account, type=pa.int64()),
        "email": email,
        "first_name": pc.utf8_capitalize(strings(FIRST_NAMES, people.first)),
        "last_name": pc.utf8_capitalize(strings(LAST_NAMES, people.last)),
        "job_title": strings([t[0] for t in TITLES], people.title),
        "seniority": strings([s[0] for s in SENIORITIES], sen),
        "function": strings([f[0] for f in FUNCTIONS], fun),
        "country": strings([c[0] for c in COUNTRIES], people.country),
        "region": strings([r[0] for r in REGIONS], region),
        "source": strings([s[0] for s in SOURCES], source),
        "campaign": _campaigns(created, source, theme),
        "created_at": timestamps(created),
        "cost": pa.array(cost, type=pa.float64()),
    })
    return LeadDraw(table=table, created=created, propensity=z, engagement=engagement, expected_events=lam,
                    employees=employees, tier=tier, industry=industry, seniority=sen, function=fun,
                    student=student, competitor=competitor, personal=personal, malformed=malformed,
                    unsupported=unsupported)
