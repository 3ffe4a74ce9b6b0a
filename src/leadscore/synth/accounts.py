"""Synthetic accounts: firmographics, target tiers, third-party intent and technographics.

Besides the public table, this returns the hidden per-account part of the buying propensity
(being in market, the tech stack, a random company effect) so leads of one account share it:
that is what makes account-level scoring and buying committees meaningful in the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.synth.catalog import (
    COUNTRIES,
    INDUSTRIES,
    INTENT_TOPICS,
    NAME_MODIFIERS,
    NAME_NOUNS,
    NAME_PREFIXES,
    REGIONS,
    TECH_TOOLS,
    TOOL_FALLBACK,
)
from leadscore.synth.columns import (
    BoolArray,
    FloatArray,
    IntArray,
    choose,
    choose_within,
    rank_within,
    sigmoid,
    strings,
)

TIER_NAMES = (None, "tier_1", "tier_2", "tier_3")
DOMAIN_VARIANTS = ("", "hq", "group", "global", "corp", "inc")
TIER_EFFECTS = (0.0, 0.70, 0.45, 0.25)
IN_MARKET_EFFECT = 0.9


@dataclass(frozen=True)
class AccountDraw:
    """The accounts table plus the hidden per-account arrays the lead generator needs."""

    table: pa.Table
    industry: IntArray
    country: IntArray
    employees: IntArray
    tier: IntArray  # 0 = not a target account, 1..3 = tier_1..tier_3
    effect: FloatArray  # account part of the latent propensity (excludes firmographics leads add)


def country_weights() -> list[float]:
    """Share of each country: the region's share split by the country's weight within the region."""
    region_share = {name: share for name, share, _ in REGIONS}
    region_total: dict[str, float] = {}
    for _, region, w, _, _ in COUNTRIES:
        region_total[region] = region_total.get(region, 0.0) + w
    return [region_share[r] * w / region_total[r] for _, r, w, _, _ in COUNTRIES]


def country_region() -> IntArray:
    """Region index of each country index."""
    names = [r[0] for r in REGIONS]
    return np.array([names.index(c[1]) for c in COUNTRIES], dtype=np.int64)


def tech_stack_strings() -> list[str]:
    """Every possible stack as a string, indexed by its bit mask (bit i = ``TECH_TOOLS[i]``)."""
    names = [t[0] for t in TECH_TOOLS]
    return [";".join(n for i, n in enumerate(names) if mask >> i & 1) for mask in range(1 << len(names))]


def _names_and_domains(rng: np.random.Generator, industry: IntArray,
                       country: IntArray) -> tuple[pa.Array, pa.Array]:
    """Company names like "Acme Software GmbH" and unique domains like "acmesoftware.de".

    Nouns fit the industry. A domain already taken gets a suffix ("acmesoftwarehq.com", ...) and,
    when those run out, a number, so domains are unique.
    """
    n = len(industry)
    prefix = rng.integers(0, len(NAME_PREFIXES), n)
    modifier = np.where(rng.random(n) < 0.4, 0, rng.integers(1, len(NAME_MODIFIERS), n))
    ind_names = [i[0] for i in INDUSTRIES]
    noun = choose_within(rng, industry, [1.0] * len(NAME_NOUNS), [ind_names.index(x[1]) for x in NAME_NOUNS])
    words = pc.binary_join_element_wise(strings(NAME_PREFIXES, prefix), strings(NAME_MODIFIERS, modifier), " ")
    words = pc.utf8_rtrim_whitespace(words)
    nouns = strings([x[0] for x in NAME_NOUNS], noun)
    legal = strings([c[4] for c in COUNTRIES], country)
    bare = pc.binary_join_element_wise(words, nouns, " ")
    name = pc.if_else(pa.array(rng.random(n) < 0.7), pc.binary_join_element_wise(bare, legal, " "), bare)
    base = pc.utf8_lower(pc.replace_substring(pc.binary_join_element_wise(words, nouns, ""), " ", ""))
    tlds = sorted({"com", *(c[3] for c in COUNTRIES)})
    country_tld = np.array([tlds.index(c[3]) for c in COUNTRIES], dtype=np.int64)[country]
    tld_id = np.where(rng.random(n) < 0.35, country_tld, tlds.index("com"))
    tld = strings(tlds, tld_id)
    plain = pc.binary_join_element_wise(base, tld, ".")
    rank = rank_within(pc.dictionary_encode(plain).indices.to_numpy().astype(np.int64))
    # The second "acmesoftware.com" becomes "acmesoftwarehq.com", ...; only then numbers follow.
    n_var = len(DOMAIN_VARIANTS)
    numbered = pc.cast(pa.array(np.maximum(rank - n_var + 2, 0)), pa.string())
    variant = pc.if_else(pa.array(rank < n_var), strings(DOMAIN_VARIANTS, np.minimum(rank, n_var - 1)), numbered)
    domain = pc.binary_join_element_wise(base, variant, ".", tld, "")
    return name, domain


def _tech_stack(rng: np.random.Generator, log_emp: FloatArray) -> tuple[pa.Array, FloatArray]:
    """Each tool is adopted with a size-dependent probability; returns stack strings and their effect."""
    n = len(log_emp)
    mask = np.zeros(n, dtype=np.int64)
    effect = np.zeros(n)
    for i, (_, base, slope, eff) in enumerate(TECH_TOOLS):
        logit = np.log(base / (1.0 - base)) + slope * (log_emp - 2.0)
        used = rng.random(n) < sigmoid(logit)
        mask |= used.astype(np.int64) << i
        effect += eff * used
    mask = np.where(mask == 0, 1 << TOOL_FALLBACK, mask)
    return strings(tech_stack_strings(), mask), np.clip(effect, -0.4, 0.8)


def _intent(rng: np.random.Generator, target: BoolArray,
            in_market: BoolArray) -> tuple[IntArray, pa.Array]:
    """Third-party intent: in-market accounts surge (often on relevant topics), others show noise."""
    n = len(target)
    observed = rng.random(n) < np.where(in_market, 0.75, np.where(target, 0.25, 0.08))
    score = np.where(in_market, rng.integers(35, 101, n), rng.integers(1, 71, n))
    score = np.where(observed, score, 0).astype(np.int32)
    relevant_p = np.where(in_market, 0.85, 0.3)
    weights = [1.0] * len(INTENT_TOPICS)
    groups = [0 if relevant else 1 for _, relevant in INTENT_TOPICS]
    topic = choose_within(rng, (rng.random(n) >= relevant_p).astype(np.int64), weights, groups)
    names = [t[0] for t in INTENT_TOPICS]
    return score, pc.if_else(pa.array(observed), strings(names, topic), pa.scalar(None, pa.string()))


def draw_accounts(rng: np.random.Generator, n_accounts: int) -> AccountDraw:
    """Draw ``n_accounts`` accounts; ``account_id`` runs 1..n_accounts."""
    n = n_accounts
    industry = choose(rng, [i[1] for i in INDUSTRIES], n)
    country = choose(rng, country_weights(), n)
    region = country_region()[country]
    employees = np.clip(np.round(rng.lognormal(4.3, 1.6, n)), 1, 250_000).astype(np.int64)
    log_emp = np.log10(employees)
    rev_per_emp = np.array([i[3] for i in INDUSTRIES])[industry]
    revenue = np.round(employees * rev_per_emp * rng.lognormal(0.0, 0.6, n), 0)
    fit = np.array([i[2] for i in INDUSTRIES])[industry]
    target = rng.random(n) < sigmoid(-3.0 + 0.9 * (log_emp - 2.5) + 1.0 * fit)
    # ABM teams tier their target list by size and fit: tier_1 is the top fifth.
    tier_score = log_emp + fit + rng.normal(0.0, 0.5, n)
    cut1, cut2 = (np.quantile(tier_score[target], [0.8, 0.45]) if target.any() else (0.0, 0.0))
    tier = np.where(~target, 0, np.where(tier_score >= cut1, 1, np.where(tier_score >= cut2, 2, 3)))
    in_market = rng.random(n) < np.where(target, 0.16, 0.08)
    intent, topic = _intent(rng, target, in_market)
    stack, stack_effect = _tech_stack(rng, log_emp)
    name, domain = _names_and_domains(rng, industry, country)
    effect = (stack_effect + IN_MARKET_EFFECT * in_market + np.array(TIER_EFFECTS)[tier]
              + rng.normal(0.0, 0.35, n))
    table = pa.table({
        "account_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "name": name,
        "domain": domain,
        "industry": strings([i[0] for i in INDUSTRIES], industry),
        "employees": pa.array(employees, type=pa.int64()),
        "annual_revenue": pa.array(revenue, type=pa.float64()),
        "region": strings([r[0] for r in REGIONS], region),
        "country": strings([c[0] for c in COUNTRIES], country),
        "is_target_account": pa.array(target, type=pa.bool_()),
        "target_tier": strings(TIER_NAMES, tier.astype(np.int64)),
        "intent_score": pa.array(intent, type=pa.int32()),
        "intent_topic": topic,
        "tech_stack": stack,
    })
    return AccountDraw(table=table, industry=industry, country=country, employees=employees,
                       tier=tier.astype(np.int64), effect=effect)
