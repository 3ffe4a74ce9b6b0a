"""Constant tables behind the synthetic funnel: who the leads are and what they do.

Every table is an immutable tuple of rows, so the generator is a pure function of its seed. The
numbers after a name are *effects on the latent propensity to buy* (log-odds-like units): they are
the hidden truth a scoring model should rediscover, so they are chosen to resemble what the seeds
describe (technology and healthcare fit best, referrals and webinars beat content syndication and
paid social, students and competitors never buy) while leaving room for noise.
"""

from __future__ import annotations

from types import MappingProxyType

PERSONAL_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com")
COMPETITOR_DOMAINS = ("leadforge.io", "scorewise.com", "pipelinepro.com")

# name, share of accounts, propensity effect, revenue per employee (USD)
INDUSTRIES: tuple[tuple[str, float, float, float], ...] = (
    ("technology", 0.25, 0.70, 250_000.0),
    ("healthcare", 0.12, 0.30, 150_000.0),
    ("education", 0.08, -0.10, 80_000.0),
    ("manufacturing", 0.15, 0.00, 200_000.0),
    ("finance", 0.13, 0.15, 400_000.0),
    ("retail", 0.12, -0.20, 120_000.0),
    ("other", 0.15, -0.30, 120_000.0),
)
INDUSTRY_OTHER = 6  # index of "other": what a lead without an account counts as

# name, share of accounts, propensity effect
REGIONS: tuple[tuple[str, float, float], ...] = (
    ("north_america", 0.40, 0.25),
    ("europe", 0.28, 0.10),
    ("apac", 0.18, 0.00),
    ("latam", 0.08, -0.20),
    ("mea", 0.06, -0.20),
)

# country, region, weight within its region, country top-level domain, legal suffix of company names
COUNTRIES: tuple[tuple[str, str, float, str, str], ...] = (
    ("United States", "north_america", 0.85, "com", "Inc."),
    ("Canada", "north_america", 0.15, "ca", "Ltd."),
    ("United Kingdom", "europe", 0.28, "co.uk", "Ltd"),
    ("Germany", "europe", 0.25, "de", "GmbH"),
    ("France", "europe", 0.17, "fr", "SAS"),
    ("Netherlands", "europe", 0.10, "nl", "B.V."),
    ("Spain", "europe", 0.10, "es", "S.L."),
    ("Sweden", "europe", 0.10, "se", "AB"),
    ("India", "apac", 0.35, "in", "Pvt. Ltd."),
    ("Australia", "apac", 0.25, "com.au", "Pty Ltd"),
    ("Japan", "apac", 0.20, "jp", "K.K."),
    ("Singapore", "apac", 0.20, "sg", "Pte. Ltd."),
    ("Brazil", "latam", 0.45, "com.br", "Ltda."),
    ("Mexico", "latam", 0.30, "mx", "S.A. de C.V."),
    ("Argentina", "latam", 0.15, "com.ar", "S.A."),
    ("Chile", "latam", 0.10, "cl", "SpA"),
    ("United Arab Emirates", "mea", 0.35, "ae", "LLC"),
    ("South Africa", "mea", 0.30, "co.za", "(Pty) Ltd"),
    ("Israel", "mea", 0.20, "co.il", "Ltd."),
    ("Saudi Arabia", "mea", 0.15, "sa", "LLC"),
)
# Countries the fictional vendor cannot sell into: sales rejects them as "unsupported_region".
UNSUPPORTED_COUNTRIES = frozenset({"Argentina", "Chile", "South Africa", "Saudi Arabia"})

SENIORITIES: tuple[tuple[str, float], ...] = (
    ("c_level", 0.60), ("vp", 0.60), ("director", 0.35), ("manager", 0.10),
    ("individual", -0.25), ("student", -1.80),
)
FUNCTIONS: tuple[tuple[str, float], ...] = (
    ("sales", 0.15), ("marketing", 0.35), ("it", 0.00), ("finance", -0.10),
    ("operations", 0.00), ("hr", -0.40), ("other", -0.20),
)

# title, seniority, function, weight. Some are traps for naive substring matching: "Internal",
# "International", "Internship", "Internet", "Interior", "Interns", "Interim" must NOT match the whole
# words student/intern, while "Student Success Manager" and "IT Intern (Summer)" must.
TITLES: tuple[tuple[str, str, str, float], ...] = (
    ("Chief Technology Officer", "c_level", "it", 1.0),
    ("Chief Marketing Officer", "c_level", "marketing", 1.0),
    ("Chief Financial Officer", "c_level", "finance", 0.8),
    ("Chief Revenue Officer", "c_level", "sales", 0.6),
    ("CEO", "c_level", "other", 1.5),
    ("Founder", "c_level", "other", 1.2),
    ("CIO", "c_level", "it", 0.5),
    ("Interim CMO", "c_level", "marketing", 0.3),
    ("VP Marketing", "vp", "marketing", 1.5),
    ("VP of Sales", "vp", "sales", 1.5),
    ("Vice President, Engineering", "vp", "it", 1.2),
    ("VP Operations", "vp", "operations", 0.8),
    ("VP Finance", "vp", "finance", 0.6),
    ("VP People", "vp", "hr", 0.4),
    ("VP Revenue Operations", "vp", "sales", 0.6),
    ("Director of IT", "director", "it", 2.5),
    ("Marketing Director", "director", "marketing", 2.5),
    ("International Sales Director", "director", "sales", 1.5),
    ("Director of Operations", "director", "operations", 1.5),
    ("HR Director", "director", "hr", 1.0),
    ("Finance Director", "director", "finance", 1.0),
    ("Director of Internal Audit", "director", "finance", 0.5),
    ("Head of Sales", "director", "sales", 1.5),
    ("Head of Marketing", "director", "marketing", 1.0),
    ("Head of Demand Generation", "director", "marketing", 0.8),
    ("Marketing Manager", "manager", "marketing", 5.0),
    ("Sales Manager", "manager", "sales", 4.0),
    ("IT Manager", "manager", "it", 4.0),
    ("Internal Communications Manager", "manager", "hr", 2.0),
    ("Operations Manager", "manager", "operations", 3.0),
    ("Finance Manager", "manager", "finance", 2.0),
    ("Product Marketing Manager", "manager", "marketing", 2.0),
    ("Marketing Operations Manager", "manager", "marketing", 1.5),
    ("Internet Marketing Manager", "manager", "marketing", 0.8),
    ("Internship Program Manager", "manager", "hr", 0.8),
    ("Student Success Manager", "manager", "other", 0.7),
    ("Account Manager", "manager", "sales", 2.0),
    ("Software Engineer", "individual", "it", 8.0),
    ("Analyst", "individual", "finance", 4.0),
    ("Data Analyst", "individual", "it", 3.0),
    ("Account Executive", "individual", "sales", 3.0),
    ("Sales Development Representative", "individual", "sales", 3.0),
    ("Marketing Specialist", "individual", "marketing", 3.0),
    ("Accountant", "individual", "finance", 2.0),
    ("HR Generalist", "individual", "hr", 1.5),
    ("Interns Coordinator", "individual", "hr", 0.4),
    ("Consultant", "individual", "other", 3.0),
    ("Systems Administrator", "individual", "it", 2.0),
    ("Interior Designer", "individual", "other", 0.7),
    ("Student", "student", "other", 3.0),
    ("Marketing Intern", "student", "marketing", 1.5),
    ("Sales Intern", "student", "sales", 1.0),
    ("PhD Student", "student", "other", 0.8),
    ("Graduate Student", "student", "other", 1.0),
    ("Intern", "student", "other", 0.8),
    ("IT Intern (Summer)", "student", "it", 0.5),
    ("MBA student", "student", "other", 0.5),
)

# source, share of leads, propensity effect, mean cost per lead (USD)
SOURCES: tuple[tuple[str, float, float, float], ...] = (
    ("organic", 0.22, 0.10, 5.0),
    ("paid_search", 0.18, 0.00, 60.0),
    ("paid_social", 0.14, -0.35, 40.0),
    ("webinar", 0.10, 0.45, 30.0),
    ("content_syndication", 0.12, -0.45, 25.0),
    ("event", 0.06, 0.20, 80.0),
    ("referral", 0.06, 0.70, 20.0),
    ("outbound", 0.12, -0.10, 15.0),
)
SOURCE_OUTBOUND = 7

# Campaign themes per source: (theme, weight, small propensity effect). The campaign name is
# "<year>-q<quarter>-<source>-<theme>", so campaigns also carry (weak) signal of their own.
CAMPAIGN_THEMES: MappingProxyType[str, tuple[tuple[str, float, float], ...]] = MappingProxyType({
    "organic": (("seo-blog", 0.5, 0.0), ("seo-product", 0.3, 0.15), ("direct", 0.2, 0.1)),
    "paid_search": (("brand", 0.35, 0.2), ("nonbrand-lead-scoring", 0.45, 0.0),
                    ("competitor-terms", 0.2, -0.3)),
    "paid_social": (("linkedin-abm", 0.4, 0.2), ("linkedin-lookalike", 0.35, -0.1),
                    ("facebook-retargeting", 0.25, -0.2)),
    "webinar": (("scoring-101", 0.4, 0.0), ("revops-roundtable", 0.35, 0.1), ("product-launch", 0.25, 0.2)),
    "content_syndication": (("techtarget-ebook", 0.4, 0.0), ("integrate-whitepaper", 0.35, -0.1),
                            ("netline-checklist", 0.25, -0.2)),
    "event": (("saas-connect", 0.4, 0.0), ("revops-summit", 0.35, 0.15), ("dreamforce-booth", 0.25, -0.1)),
    "referral": (("customer-referral", 0.7, 0.1), ("partner-referral", 0.3, -0.1)),
    "outbound": (("sdr-tier1", 0.4, 0.2), ("abm-sequence", 0.3, 0.1), ("sdr-cold", 0.3, -0.2)),
})

# tool, base share of accounts, change in log-odds of using it per tenfold more employees, effect.
# Marketing-automation and CRM users are the vendor's ideal customers; small-business CRMs are not.
TECH_TOOLS: tuple[tuple[str, float, float, float], ...] = (
    ("salesforce", 0.30, 0.9, 0.30),
    ("hubspot", 0.30, -0.2, 0.25),
    ("marketo", 0.10, 0.8, 0.45),
    ("pardot", 0.07, 0.5, 0.30),
    ("snowflake", 0.12, 0.9, 0.20),
    ("segment", 0.10, 0.3, 0.25),
    ("zendesk", 0.20, 0.2, 0.00),
    ("slack", 0.55, 0.3, 0.05),
    ("google_analytics", 0.60, 0.0, 0.00),
    ("pipedrive", 0.08, -0.8, -0.20),
    ("zoho", 0.07, -0.8, -0.25),
)
TOOL_FALLBACK = 8  # google_analytics: every account has a detectable tool

# Third-party intent topics: (topic, relevant to the vendor?). Only relevant topics predict buying.
INTENT_TOPICS: tuple[tuple[str, bool], ...] = (
    ("lead scoring", True), ("marketing automation", True), ("crm", True),
    ("account based marketing", True), ("revenue operations", True), ("sales intelligence", True),
    ("cybersecurity", False), ("cloud migration", False), ("hr software", False), ("erp", False),
    ("data warehousing", False),
)

NAME_PREFIXES = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Wonka", "Tyrell",
    "Cyberdyne", "Soylent", "Massive", "Aperture", "Black Mesa", "Oscorp", "Pied Piper", "Dunder",
    "Nakatomi", "Northwind", "Contoso", "Fabrikam", "Adatum", "Litware", "Tailspin", "Wingtip",
    "Blue Yonder", "Proseware", "Lucerne", "Fourth Coffee", "Alpine", "Cobalt", "Granite", "Harbor",
    "Ironwood", "Juniper", "Keystone", "Lakeside", "Meridian", "Nimbus", "Orchid", "Pinnacle", "Quantum",
    "Redwood", "Summit", "Tidal", "Upland", "Vertex", "Willow", "Zenith", "Atlas", "Beacon", "Cedar",
    "Delta", "Evergreen", "Falcon", "Horizon", "Lumen", "Sterling", "Silverline",
)
# optional middle word of company names ("Summit Digital Health"); the empty one is most common
NAME_MODIFIERS = (
    "", "Bright", "Prime", "Next", "True", "Blue", "Green", "Smart", "United", "First", "Global",
    "Digital", "Pacific", "Atlantic", "Nova", "Apex", "Core", "Open", "Clear", "Swift", "North",
)
# company-name noun, industry it belongs to
NAME_NOUNS: tuple[tuple[str, str], ...] = (
    ("Software", "technology"), ("Labs", "technology"), ("Systems", "technology"), ("Cloud", "technology"),
    ("Data", "technology"), ("Health", "healthcare"), ("Medical", "healthcare"), ("Care", "healthcare"),
    ("Bio", "healthcare"), ("Clinics", "healthcare"), ("Academy", "education"), ("Learning", "education"),
    ("University", "education"), ("Schools", "education"), ("Industries", "manufacturing"),
    ("Manufacturing", "manufacturing"), ("Works", "manufacturing"), ("Robotics", "manufacturing"),
    ("Capital", "finance"), ("Financial", "finance"), ("Bank", "finance"), ("Insurance", "finance"),
    ("Retail", "retail"), ("Stores", "retail"), ("Outfitters", "retail"), ("Market", "retail"),
    ("Group", "other"), ("Partners", "other"), ("Consulting", "other"), ("Services", "other"),
)
SMALL_BUSINESS_WORDS = ("consulting", "studio", "advisors", "media", "design", "ventures")

FIRST_NAMES = (
    "john", "mary", "wei", "priya", "carlos", "anna", "li", "fatima", "james", "sofia", "ahmed", "emma",
    "lucas", "olga", "kenji", "maria", "david", "chloe", "omar", "ines", "michael", "sarah", "raj",
    "aisha", "thomas", "julia", "hiro", "elena", "daniel", "laura", "mohammed", "yuki", "peter", "nina",
    "samuel", "grace", "ivan", "leila", "pablo", "hannah", "arjun", "mei", "oliver", "zoe", "mateo",
    "amara", "felix", "sara", "noah", "lena",
)
LAST_NAMES = (
    "smith", "garcia", "chen", "patel", "muller", "rossi", "kim", "nguyen", "silva", "jones", "khan",
    "dubois", "novak", "tanaka", "cohen", "brown", "lopez", "ivanova", "okafor", "berg", "johnson",
    "williams", "martin", "schmidt", "fischer", "sato", "wang", "singh", "kumar", "hernandez", "moreau",
    "jensen", "larsen", "costa", "santos", "yilmaz", "ali", "hassan", "murphy", "walsh", "taylor",
    "wilson", "anderson", "lee", "park", "ito", "fernandez", "romero", "kowalski", "horvat",
)

# Why sales rejects a lead, in the order a rep would check them.
REJECTION_REASONS = (
    "competitor", "student", "unsupported_region", "wrong_title", "no_budget", "poor_fit", "not_ready",
)
