"""Constant tables for the event stream: event types, their mix, the buying journey and the content.

Kept apart from ``catalog`` because these tables describe *behaviour* (what a lead does and when),
while ``catalog`` describes *who* the leads are.
"""

from __future__ import annotations

EVENT_TYPES = (
    "email_open", "email_click", "email_bounce", "unsubscribe", "page_view", "blog_visit",
    "pricing_page_view", "case_study_view", "content_download", "webinar_registered",
    "webinar_attended", "contact_form", "demo_request", "free_trial_signup",
)
EMAIL_TYPES = frozenset({"email_open", "email_click"})

# Everyday engagement of any lead: (type, share). Hand-raising types are added separately.
BACKGROUND_MIX: tuple[tuple[str, float], ...] = (
    ("email_open", 0.40), ("email_click", 0.10), ("page_view", 0.28), ("blog_visit", 0.10),
    ("case_study_view", 0.02), ("content_download", 0.05), ("webinar_registered", 0.03),
    ("webinar_attended", 0.02),
)
# What an engaged lead occasionally does without being in a buying cycle.
INTENT_MIX: tuple[tuple[str, float], ...] = (
    ("pricing_page_view", 0.50), ("demo_request", 0.15), ("free_trial_signup", 0.15),
    ("contact_form", 0.12), ("webinar_attended", 0.08),
)
# Types that belong to a buying journey. A lead that will buy does these only within the journey,
# so that "how long before buying does a lead start doing X" has a clean answer per type.
JOURNEY_ONLY = frozenset({
    "blog_visit", "pricing_page_view", "case_study_view", "contact_form", "demo_request",
    "free_trial_signup",
})

# The buying journey, relative to its decision date (conversion for buyers): (type, mean days before
# the decision, sd of that gap in days, expected count for a buyer). The gaps follow seed 002: blogs
# about five weeks out, pricing three weeks, a contact form or demo request one week.
JOURNEY: tuple[tuple[str, float, float, float], ...] = (
    ("content_download", 42.0, 8.0, 0.6),
    ("blog_visit", 35.0, 6.0, 2.0),
    ("case_study_view", 28.0, 5.0, 1.0),
    ("pricing_page_view", 21.0, 4.0, 2.0),
    ("free_trial_signup", 14.0, 3.0, 0.3),
    ("demo_request", 7.0, 2.0, 0.6),
    ("contact_form", 7.0, 2.0, 0.5),
)
HAND_RAISES = ("contact_form", "demo_request", "free_trial_signup")

# Content behind the events: (type, url, asset, topic, background weight, journey weight).
# ``None`` leaves the column null: email opens have no url, page views no asset, and so on.
CONTENT: tuple[tuple[str, str | None, str | None, str | None, float, float], ...] = (
    ("email_open", None, None, "lead scoring", 3.0, 3.0),
    ("email_open", None, None, "marketing automation", 2.0, 2.0),
    ("email_open", None, None, "product", 2.0, 2.0),
    ("email_open", None, None, "events", 1.0, 1.0),
    ("email_click", "/blog/what-is-lead-scoring", None, "lead scoring", 3.0, 3.0),
    ("email_click", "/webinars/scoring-101", None, "lead scoring", 1.0, 1.0),
    ("email_click", "/product/integrations", None, "product", 1.0, 2.0),
    ("email_click", "/pricing", None, "pricing", 0.5, 3.0),
    ("email_bounce", None, None, None, 1.0, 1.0),
    ("unsubscribe", None, None, None, 1.0, 1.0),
    ("page_view", "/", None, None, 5.0, 2.0),
    ("page_view", "/product/scoring", None, "product", 3.0, 4.0),
    ("page_view", "/product/account-scoring", None, "account based marketing", 1.5, 3.0),
    ("page_view", "/product/integrations", None, "product", 1.5, 3.0),
    ("page_view", "/integrations/salesforce", None, "crm", 1.0, 2.0),
    ("page_view", "/integrations/hubspot", None, "marketing automation", 1.0, 2.0),
    ("page_view", "/docs/getting-started", None, "product", 1.0, 2.0),
    ("page_view", "/docs/api", None, "product", 0.7, 1.5),
    ("page_view", "/customers", None, None, 1.0, 2.0),
    ("page_view", "/security", None, None, 0.5, 2.0),
    ("page_view", "/about", None, None, 1.0, 0.5),
    ("page_view", "/careers", None, None, 1.0, 0.1),
    ("blog_visit", "/blog/what-is-lead-scoring", None, "lead scoring", 4.0, 2.0),
    ("blog_visit", "/blog/mql-vs-sql", None, "lead scoring", 2.0, 3.0),
    ("blog_visit", "/blog/negative-scoring", None, "lead scoring", 1.0, 2.0),
    ("blog_visit", "/blog/score-decay-explained", None, "lead scoring", 1.0, 2.0),
    ("blog_visit", "/blog/abm-playbook", None, "account based marketing", 2.0, 2.0),
    ("blog_visit", "/blog/revops-metrics", None, "revenue operations", 2.0, 1.5),
    ("blog_visit", "/blog/hubspot-vs-marketo", None, "marketing automation", 2.0, 2.5),
    ("blog_visit", "/blog/crm-data-hygiene", None, "data quality", 1.5, 1.0),
    ("blog_visit", "/blog/attribution-models", None, "attribution", 1.5, 1.0),
    ("blog_visit", "/blog/career-in-marketing-ops", None, "careers", 1.5, 0.1),
    ("pricing_page_view", "/pricing", None, "pricing", 6.0, 5.0),
    ("pricing_page_view", "/pricing/enterprise", None, "pricing", 1.0, 3.0),
    ("pricing_page_view", "/pricing/compare", None, "pricing", 1.0, 2.0),
    ("case_study_view", "/case-studies/northwind-doubles-sql-rate", None, "lead scoring", 1.0, 1.0),
    ("case_study_view", "/case-studies/contoso-health-abm", None, "account based marketing", 1.0, 1.0),
    ("case_study_view", "/case-studies/fabrikam-revops", None, "revenue operations", 1.0, 1.0),
    ("case_study_view", "/case-studies/litware-bank-routing", None, "crm", 1.0, 1.0),
    ("content_download", "/resources/lead-scoring-playbook", "ebook: The Lead Scoring Playbook",
     "lead scoring", 3.0, 3.0),
    ("content_download", "/resources/state-of-revops-2026", "report: State of RevOps 2026",
     "revenue operations", 2.0, 1.5),
    ("content_download", "/resources/mql-checklist", "checklist: 12-point MQL Checklist",
     "lead scoring", 2.0, 2.0),
    ("content_download", "/resources/abm-whitepaper", "whitepaper: Account Scoring for ABM",
     "account based marketing", 1.5, 2.0),
    ("content_download", "/resources/roi-calculator", "template: Lead Scoring ROI Calculator",
     "pricing", 0.5, 2.5),
    ("content_download", "/resources/marketing-careers-guide", "ebook: Careers in Marketing Ops",
     "careers", 1.0, 0.1),
    ("webinar_registered", "/webinars/scoring-101", "webinar: Lead Scoring 101", "lead scoring", 3.0, 2.0),
    ("webinar_registered", "/webinars/revops-roundtable", "webinar: RevOps Roundtable",
     "revenue operations", 2.0, 1.5),
    ("webinar_registered", "/webinars/product-tour", "webinar: Live Product Tour", "product", 1.0, 3.0),
    ("webinar_attended", None, "webinar: Lead Scoring 101", "lead scoring", 3.0, 2.0),
    ("webinar_attended", None, "webinar: RevOps Roundtable", "revenue operations", 2.0, 1.5),
    ("webinar_attended", None, "webinar: Live Product Tour", "product", 1.0, 3.0),
    ("contact_form", "/contact", None, None, 1.0, 1.0),
    ("contact_form", "/contact/sales", None, "pricing", 0.5, 2.0),
    ("demo_request", "/demo", None, "product", 1.0, 1.0),
    ("free_trial_signup", "/signup", None, "product", 1.0, 1.0),
)
