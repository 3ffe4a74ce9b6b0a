-- leadscore model 'bench-reference' (bb314d2625db2c3f), postgres, as of 2026-06-30 00:00:00
-- lead_scores: one row per lead of leads
WITH ev_in AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN "__type_code" IN (6, 7)
      THEN POWER(CAST(0.5 AS DOUBLE PRECISION), "__age" / CAST(30.0 AS DOUBLE PRECISION))
      WHEN "__type_code" IN (1, 3, 9, 10, 12, 13)
      THEN POWER(CAST(0.5 AS DOUBLE PRECISION), "__age" / CAST(45.0 AS DOUBLE PRECISION))
      WHEN "__type_code" IN (2, 4, 8)
      THEN POWER(CAST(0.5 AS DOUBLE PRECISION), "__age" / CAST(14.0 AS DOUBLE PRECISION))
    END AS "__factor"
  FROM (
    SELECT
      "lead_id" AS "__lead",
      "event_id",
      "ts",
      "type",
      CAST((
        CAST(EXTRACT(EPOCH FROM CAST('2026-06-30 00:00:00' AS TIMESTAMP)) * 1000000 AS BIGINT) - CAST(EXTRACT(EPOCH FROM "ts") * 1000000 AS BIGINT)
      ) AS DOUBLE PRECISION) / CAST(86400000000.0 AS DOUBLE PRECISION) AS "__age",
      CASE "type"
        WHEN 'blog_visit'
        THEN 1
        WHEN 'contact_form'
        THEN 2
        WHEN 'content_download'
        THEN 3
        WHEN 'demo_request'
        THEN 4
        WHEN 'email_bounce'
        THEN 5
        WHEN 'email_click'
        THEN 6
        WHEN 'email_open'
        THEN 7
        WHEN 'free_trial_signup'
        THEN 8
        WHEN 'page_view'
        THEN 9
        WHEN 'pricing_page_view'
        THEN 10
        WHEN 'unsubscribe'
        THEN 11
        WHEN 'webinar_attended'
        THEN 12
        WHEN 'webinar_registered'
        THEN 13
        ELSE 0
      END AS "__type_code"
    FROM events
    WHERE
      "ts" < CAST('2026-06-30 00:00:00' AS TIMESTAMP)
  ) AS _sub
), ev AS MATERIALIZED (
  SELECT
    "__lead",
    CAST(2.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 7) AS DOUBLE PRECISION) AS "pts__email_open",
    CAST(5.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 6) AS DOUBLE PRECISION) AS "pts__email_click",
    CAST(1.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 9) AS DOUBLE PRECISION) AS "pts__page_view",
    CAST(5.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 1) AS DOUBLE PRECISION) AS "pts__blog_visit",
    CAST(10.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 3) AS DOUBLE PRECISION) AS "pts__content_download",
    CAST(20.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 10) AS DOUBLE PRECISION) AS "pts__pricing_page_view",
    CAST(5.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 13) AS DOUBLE PRECISION) AS "pts__webinar_registered",
    CAST(15.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 12) AS DOUBLE PRECISION) AS "pts__webinar_attended",
    CAST(40.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 2) AS DOUBLE PRECISION) AS "pts__contact_form",
    CAST(40.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 4) AS DOUBLE PRECISION) AS "pts__demo_request",
    CAST(30.0 AS DOUBLE PRECISION) * CAST(SUM("__factor") FILTER(WHERE
      "__type_code" = 8) AS DOUBLE PRECISION) AS "pts__free_trial_signup",
    COUNT(*) FILTER(WHERE
      "__type_code" = 5) AS "agg__agg:count:email_bounce:None",
    COUNT(*) FILTER(WHERE
      (
        (
          "__type_code" = 2
        ) OR (
          "__type_code" = 4
        ) OR (
          "__type_code" = 8
        )
      )
      AND "__age" <= CAST(30.0 AS DOUBLE PRECISION)) AS "agg__agg:count:intent:30.0",
    COUNT(*) FILTER(WHERE
      "__type_code" = 11) AS "agg__agg:count:unsubscribe:None",
    MAX(
      CAST(EXTRACT(EPOCH FROM "ts") * 1000000 AS BIGINT) * 11 + CASE "__type_code"
        WHEN 1
        THEN 0
        WHEN 2
        THEN 1
        WHEN 3
        THEN 2
        WHEN 4
        THEN 3
        WHEN 6
        THEN 4
        WHEN 7
        THEN 5
        WHEN 8
        THEN 6
        WHEN 9
        THEN 7
        WHEN 10
        THEN 8
        WHEN 12
        THEN 9
        WHEN 13
        THEN 10
      END
    ) FILTER(WHERE
      "__type_code" IN (1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13)) AS "__last_activity"
  FROM ev_in
  GROUP BY
    "__lead"
), r AS MATERIALIZED (
  SELECT
    "l"."lead_id" AS "lead_id",
    "l"."account_id" AS "account_id",
    CASE
      WHEN COALESCE((
        "l"."seniority" = 'c_level'
      ), FALSE)
      THEN CAST(15.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__seniority_c_level",
    CASE
      WHEN COALESCE((
        "l"."seniority" = 'vp'
      ), FALSE)
      THEN CAST(15.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__seniority_vp",
    CASE
      WHEN COALESCE((
        "l"."seniority" = 'director'
      ), FALSE)
      THEN CAST(10.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__seniority_director",
    CASE
      WHEN COALESCE((
        "l"."seniority" = 'manager'
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__seniority_manager",
    CASE
      WHEN COALESCE((
        "a"."industry" = 'technology'
      ), FALSE)
      THEN CAST(20.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__industry_technology",
    CASE
      WHEN COALESCE((
        "a"."industry" = 'healthcare'
      ), FALSE)
      THEN CAST(10.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__industry_healthcare",
    CASE
      WHEN COALESCE((
        "a"."industry" = 'education'
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__industry_education",
    CASE
      WHEN COALESCE((
        "a"."employees" > 500
      ), FALSE)
      THEN CAST(8.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__employees_gt_500",
    CASE
      WHEN COALESCE((
        "a"."employees" BETWEEN 101 AND 500
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__employees_101_500",
    CASE
      WHEN COALESCE((
        "l"."region" = 'north_america'
      ), FALSE)
      THEN CAST(10.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__region_north_america",
    CASE
      WHEN COALESCE((
        "l"."region" = 'europe'
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__region_europe",
    CASE
      WHEN COALESCE((
        "a"."is_target_account"
      ), FALSE)
      THEN CAST(10.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__target_account",
    CASE
      WHEN COALESCE(
        (
          (
            CASE
              WHEN LENGTH("l"."email") - LENGTH(REPLACE("l"."email", '@', '')) = 1
              AND POSITION('.' IN SPLIT_PART("l"."email", '@', 2)) > 0
              THEN LOWER(SPLIT_PART("l"."email", '@', 2))
            END
          ) IN ('gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com')
        ),
        FALSE
      )
      THEN CAST(-15.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__personal_email",
    CASE
      WHEN COALESCE(
        (
          COALESCE(
            (
              "l"."job_title" ~* '(^|[^A-Za-z0-9_])(student|intern)([^A-Za-z0-9_]|$)'
            ),
            FALSE
          )
        ),
        FALSE
      )
      THEN CAST(-25.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__student_or_intern",
    CASE
      WHEN COALESCE(
        (
          (
            CASE
              WHEN LENGTH("l"."email") - LENGTH(REPLACE("l"."email", '@', '')) = 1
              AND POSITION('.' IN SPLIT_PART("l"."email", '@', 2)) > 0
              THEN LOWER(SPLIT_PART("l"."email", '@', 2))
            END
          ) IN ('leadforge.io', 'scorewise.com', 'pipelinepro.com')
        ),
        FALSE
      )
      THEN CAST(-100.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__competitor",
    CASE
      WHEN COALESCE(
        (
          NOT COALESCE(
            (
              LENGTH("l"."email") - LENGTH(REPLACE("l"."email", '@', '')) = 1
              AND POSITION('.' IN SPLIT_PART("l"."email", '@', 2)) > 0
            ),
            FALSE
          )
        ),
        FALSE
      )
      THEN CAST(-20.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__malformed_email",
    CASE
      WHEN COALESCE((
        COALESCE("e"."agg__agg:count:unsubscribe:None", 0) >= 1
      ), FALSE)
      THEN CAST(-10.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__unsubscribed",
    CASE
      WHEN COALESCE((
        COALESCE("e"."agg__agg:count:email_bounce:None", 0) >= 1
      ), FALSE)
      THEN CAST(-10.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__bounced",
    COALESCE("e"."pts__email_open", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__email_open",
    COALESCE("e"."pts__email_click", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__email_click",
    COALESCE("e"."pts__page_view", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__page_view",
    COALESCE("e"."pts__blog_visit", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__blog_visit",
    COALESCE("e"."pts__content_download", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__content_download",
    COALESCE("e"."pts__pricing_page_view", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__pricing_page_view",
    COALESCE("e"."pts__webinar_registered", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__webinar_registered",
    COALESCE("e"."pts__webinar_attended", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__webinar_attended",
    COALESCE("e"."pts__contact_form", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__contact_form",
    COALESCE("e"."pts__demo_request", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__demo_request",
    COALESCE("e"."pts__free_trial_signup", CAST(0.0 AS DOUBLE PRECISION)) AS "pts__free_trial_signup",
    COALESCE("e"."agg__agg:count:intent:30.0", 0) AS "ref__agg:count:intent:30.0",
    CAST((
      CAST('1970-01-01 00:00:00' AS TIMESTAMP) + DIV(
        (
          "e"."__last_activity" - (
            (
              "e"."__last_activity" % 11 + 11
            ) % 11
          )
        ),
        11
      ) * INTERVAL '1 MICROSECOND'
    ) AS TIMESTAMP) AS "last_activity_at",
    CASE (
        "e"."__last_activity" % 11 + 11
      ) % 11
      WHEN 0
      THEN 'blog_visit'
      WHEN 1
      THEN 'contact_form'
      WHEN 2
      THEN 'content_download'
      WHEN 3
      THEN 'demo_request'
      WHEN 4
      THEN 'email_click'
      WHEN 5
      THEN 'email_open'
      WHEN 6
      THEN 'free_trial_signup'
      WHEN 7
      THEN 'page_view'
      WHEN 8
      THEN 'pricing_page_view'
      WHEN 9
      THEN 'webinar_attended'
      WHEN 10
      THEN 'webinar_registered'
    END AS "last_activity_type"
  FROM leads AS l
  LEFT JOIN accounts AS a
    ON "l"."account_id" = "a"."account_id"
  LEFT JOIN ev AS e
    ON "l"."lead_id" = "e"."__lead"
), g AS MATERIALIZED (
  SELECT
    *,
    (
      "pts__email_open" + "pts__email_click"
    ) AS "graw__email",
    (
      "pts__page_view" + "pts__blog_visit" + "pts__content_download" + "pts__pricing_page_view" + "pts__webinar_registered" + "pts__webinar_attended"
    ) AS "graw__web",
    (
      "pts__contact_form" + "pts__demo_request" + "pts__free_trial_signup"
    ) AS "graw__intent"
  FROM r
), g2 AS MATERIALIZED (
  SELECT
    *,
    LEAST("graw__email", CAST(40.0 AS DOUBLE PRECISION)) AS "email",
    LEAST("graw__web", CAST(50.0 AS DOUBLE PRECISION)) AS "web",
    LEAST("graw__intent", CAST(60.0 AS DOUBLE PRECISION)) AS "intent"
  FROM g
), lr AS MATERIALIZED (
  SELECT
    *,
    (
      "pts__seniority_c_level" + "pts__seniority_vp" + "pts__seniority_director" + "pts__seniority_manager" + "pts__industry_technology" + "pts__industry_healthcare" + "pts__industry_education" + "pts__employees_gt_500" + "pts__employees_101_500" + "pts__region_north_america" + "pts__region_europe" + "pts__target_account"
    ) AS "lraw__fit",
    (
      "email" + "web" + "intent"
    ) AS "lraw__engagement",
    (
      "pts__personal_email" + "pts__student_or_intern" + "pts__competitor" + "pts__malformed_email" + "pts__unsubscribed" + "pts__bounced"
    ) AS "lraw__negative"
  FROM g2
), lv AS MATERIALIZED (
  SELECT
    *,
    LEAST("lraw__fit", CAST(60.0 AS DOUBLE PRECISION)) AS "fit",
    "lraw__engagement" AS "engagement",
    "lraw__negative" AS "negative"
  FROM lr
), traw AS MATERIALIZED (
  SELECT
    *,
    (
      "fit" + "engagement" + "negative"
    ) AS "total__raw"
  FROM lv
), t AS MATERIALIZED (
  SELECT
    *,
    GREATEST("total__raw", CAST(0.0 AS DOUBLE PRECISION)) AS "total"
  FROM traw
), o0 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN COALESCE((
        "fit" >= 45
      ), FALSE)
      THEN 'A'
      WHEN COALESCE((
        "fit" >= 30
      ), FALSE)
      THEN 'B'
      WHEN COALESCE((
        "fit" >= 15
      ), FALSE)
      THEN 'C'
      WHEN COALESCE((
        TRUE
      ), FALSE)
      THEN 'D'
    END AS "grade",
    CASE
      WHEN "total" >= CAST(100.0 AS DOUBLE PRECISION)
      AND COALESCE((
        "ref__agg:count:intent:30.0" >= 1
      ), FALSE)
      THEN 'sql'
      WHEN "total" >= CAST(50.0 AS DOUBLE PRECISION)
      THEN 'mql'
      WHEN "total" >= CAST(30.0 AS DOUBLE PRECISION)
      THEN 'engaged'
      WHEN "total" >= CAST(0.0 AS DOUBLE PRECISION)
      THEN 'nurture'
    END AS "stage",
    CASE
      WHEN "total" >= CAST(100.0 AS DOUBLE PRECISION)
      AND COALESCE((
        "ref__agg:count:intent:30.0" >= 1
      ), FALSE)
      THEN 'Call now'
      WHEN "total" >= CAST(50.0 AS DOUBLE PRECISION)
      THEN 'SDR review'
      WHEN "total" >= CAST(30.0 AS DOUBLE PRECISION)
      THEN 'Nurture'
      WHEN "total" >= CAST(0.0 AS DOUBLE PRECISION)
      THEN 'Low-touch nurture'
    END AS "next_action",
    "pts__seniority_c_level" AS "why:seniority_c_level",
    "pts__seniority_vp" AS "why:seniority_vp",
    "pts__seniority_director" AS "why:seniority_director",
    "pts__seniority_manager" AS "why:seniority_manager",
    "pts__industry_technology" AS "why:industry_technology",
    "pts__industry_healthcare" AS "why:industry_healthcare",
    "pts__industry_education" AS "why:industry_education",
    "pts__employees_gt_500" AS "why:employees_gt_500",
    "pts__employees_101_500" AS "why:employees_101_500",
    "pts__region_north_america" AS "why:region_north_america",
    "pts__region_europe" AS "why:region_europe",
    "pts__target_account" AS "why:target_account",
    "fit" - "lraw__fit" AS "why:fit:cap",
    "pts__email_open" AS "why:email_open",
    "pts__email_click" AS "why:email_click",
    "email" - "graw__email" AS "why:email:cap",
    "pts__page_view" AS "why:page_view",
    "pts__blog_visit" AS "why:blog_visit",
    "pts__content_download" AS "why:content_download",
    "pts__pricing_page_view" AS "why:pricing_page_view",
    "pts__webinar_registered" AS "why:webinar_registered",
    "pts__webinar_attended" AS "why:webinar_attended",
    "web" - "graw__web" AS "why:web:cap",
    "pts__contact_form" AS "why:contact_form",
    "pts__demo_request" AS "why:demo_request",
    "pts__free_trial_signup" AS "why:free_trial_signup",
    "intent" - "graw__intent" AS "why:intent:cap",
    "pts__personal_email" AS "why:personal_email",
    "pts__student_or_intern" AS "why:student_or_intern",
    "pts__competitor" AS "why:competitor",
    "pts__malformed_email" AS "why:malformed_email",
    "pts__unsubscribed" AS "why:unsubscribed",
    "pts__bounced" AS "why:bounced",
    "total" - "total__raw" AS "why:total:cap"
  FROM t
), k1 AS MATERIALIZED (
  SELECT
    *,
    ABS("pts__bounced") AS "__key1_1",
    ABS("pts__competitor") AS "__key1_2",
    ABS("email") AS "__key1_3",
    ABS("pts__employees_101_500") AS "__key1_4",
    ABS("pts__employees_gt_500") AS "__key1_5",
    ABS("pts__industry_education") AS "__key1_6",
    ABS("pts__industry_healthcare") AS "__key1_7",
    ABS("pts__industry_technology") AS "__key1_8",
    ABS("intent") AS "__key1_9",
    ABS("pts__malformed_email") AS "__key1_10",
    ABS("pts__personal_email") AS "__key1_11",
    ABS("pts__region_europe") AS "__key1_12",
    ABS("pts__region_north_america") AS "__key1_13",
    ABS("pts__seniority_c_level") AS "__key1_14",
    ABS("pts__seniority_director") AS "__key1_15",
    ABS("pts__seniority_manager") AS "__key1_16",
    ABS("pts__seniority_vp") AS "__key1_17",
    ABS("pts__student_or_intern") AS "__key1_18",
    ABS("pts__target_account") AS "__key1_19",
    ABS("pts__unsubscribed") AS "__key1_20",
    ABS("web") AS "__key1_21"
  FROM o0
), b1 AS MATERIALIZED (
  SELECT
    *,
    GREATEST(
      "__key1_1",
      "__key1_2",
      "__key1_3",
      "__key1_4",
      "__key1_5",
      "__key1_6",
      "__key1_7",
      "__key1_8",
      "__key1_9",
      "__key1_10",
      "__key1_11",
      "__key1_12",
      "__key1_13",
      "__key1_14",
      "__key1_15",
      "__key1_16",
      "__key1_17",
      "__key1_18",
      "__key1_19",
      "__key1_20",
      "__key1_21"
    ) AS "__best1"
  FROM k1
), p1 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN "__best1" > CAST(0.0 AS DOUBLE PRECISION)
      THEN CASE
        WHEN "__key1_1" = "__best1"
        THEN 1
        WHEN "__key1_2" = "__best1"
        THEN 2
        WHEN "__key1_3" = "__best1"
        THEN 3
        WHEN "__key1_4" = "__best1"
        THEN 4
        WHEN "__key1_5" = "__best1"
        THEN 5
        WHEN "__key1_6" = "__best1"
        THEN 6
        WHEN "__key1_7" = "__best1"
        THEN 7
        WHEN "__key1_8" = "__best1"
        THEN 8
        WHEN "__key1_9" = "__best1"
        THEN 9
        WHEN "__key1_10" = "__best1"
        THEN 10
        WHEN "__key1_11" = "__best1"
        THEN 11
        WHEN "__key1_12" = "__best1"
        THEN 12
        WHEN "__key1_13" = "__best1"
        THEN 13
        WHEN "__key1_14" = "__best1"
        THEN 14
        WHEN "__key1_15" = "__best1"
        THEN 15
        WHEN "__key1_16" = "__best1"
        THEN 16
        WHEN "__key1_17" = "__best1"
        THEN 17
        WHEN "__key1_18" = "__best1"
        THEN 18
        WHEN "__key1_19" = "__best1"
        THEN 19
        WHEN "__key1_20" = "__best1"
        THEN 20
        WHEN "__key1_21" = "__best1"
        THEN 21
      END
    END AS "__pick1"
  FROM b1
), k2 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN COALESCE((
        1 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__bounced")
    END AS "__key2_1",
    CASE
      WHEN COALESCE((
        2 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__competitor")
    END AS "__key2_2",
    CASE
      WHEN COALESCE((
        3 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("email")
    END AS "__key2_3",
    CASE
      WHEN COALESCE((
        4 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__employees_101_500")
    END AS "__key2_4",
    CASE
      WHEN COALESCE((
        5 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__employees_gt_500")
    END AS "__key2_5",
    CASE
      WHEN COALESCE((
        6 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__industry_education")
    END AS "__key2_6",
    CASE
      WHEN COALESCE((
        7 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__industry_healthcare")
    END AS "__key2_7",
    CASE
      WHEN COALESCE((
        8 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__industry_technology")
    END AS "__key2_8",
    CASE
      WHEN COALESCE((
        9 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("intent")
    END AS "__key2_9",
    CASE
      WHEN COALESCE((
        10 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__malformed_email")
    END AS "__key2_10",
    CASE
      WHEN COALESCE((
        11 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__personal_email")
    END AS "__key2_11",
    CASE
      WHEN COALESCE((
        12 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__region_europe")
    END AS "__key2_12",
    CASE
      WHEN COALESCE((
        13 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__region_north_america")
    END AS "__key2_13",
    CASE
      WHEN COALESCE((
        14 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_c_level")
    END AS "__key2_14",
    CASE
      WHEN COALESCE((
        15 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_director")
    END AS "__key2_15",
    CASE
      WHEN COALESCE((
        16 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_manager")
    END AS "__key2_16",
    CASE
      WHEN COALESCE((
        17 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_vp")
    END AS "__key2_17",
    CASE
      WHEN COALESCE((
        18 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__student_or_intern")
    END AS "__key2_18",
    CASE
      WHEN COALESCE((
        19 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__target_account")
    END AS "__key2_19",
    CASE
      WHEN COALESCE((
        20 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__unsubscribed")
    END AS "__key2_20",
    CASE
      WHEN COALESCE((
        21 IN ("__pick1")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("web")
    END AS "__key2_21"
  FROM p1
), b2 AS MATERIALIZED (
  SELECT
    *,
    GREATEST(
      "__key2_1",
      "__key2_2",
      "__key2_3",
      "__key2_4",
      "__key2_5",
      "__key2_6",
      "__key2_7",
      "__key2_8",
      "__key2_9",
      "__key2_10",
      "__key2_11",
      "__key2_12",
      "__key2_13",
      "__key2_14",
      "__key2_15",
      "__key2_16",
      "__key2_17",
      "__key2_18",
      "__key2_19",
      "__key2_20",
      "__key2_21"
    ) AS "__best2"
  FROM k2
), p2 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN "__best2" > CAST(0.0 AS DOUBLE PRECISION)
      THEN CASE
        WHEN "__key2_1" = "__best2"
        THEN 1
        WHEN "__key2_2" = "__best2"
        THEN 2
        WHEN "__key2_3" = "__best2"
        THEN 3
        WHEN "__key2_4" = "__best2"
        THEN 4
        WHEN "__key2_5" = "__best2"
        THEN 5
        WHEN "__key2_6" = "__best2"
        THEN 6
        WHEN "__key2_7" = "__best2"
        THEN 7
        WHEN "__key2_8" = "__best2"
        THEN 8
        WHEN "__key2_9" = "__best2"
        THEN 9
        WHEN "__key2_10" = "__best2"
        THEN 10
        WHEN "__key2_11" = "__best2"
        THEN 11
        WHEN "__key2_12" = "__best2"
        THEN 12
        WHEN "__key2_13" = "__best2"
        THEN 13
        WHEN "__key2_14" = "__best2"
        THEN 14
        WHEN "__key2_15" = "__best2"
        THEN 15
        WHEN "__key2_16" = "__best2"
        THEN 16
        WHEN "__key2_17" = "__best2"
        THEN 17
        WHEN "__key2_18" = "__best2"
        THEN 18
        WHEN "__key2_19" = "__best2"
        THEN 19
        WHEN "__key2_20" = "__best2"
        THEN 20
        WHEN "__key2_21" = "__best2"
        THEN 21
      END
    END AS "__pick2"
  FROM b2
), k3 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN COALESCE((
        1 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__bounced")
    END AS "__key3_1",
    CASE
      WHEN COALESCE((
        2 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__competitor")
    END AS "__key3_2",
    CASE
      WHEN COALESCE((
        3 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("email")
    END AS "__key3_3",
    CASE
      WHEN COALESCE((
        4 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__employees_101_500")
    END AS "__key3_4",
    CASE
      WHEN COALESCE((
        5 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__employees_gt_500")
    END AS "__key3_5",
    CASE
      WHEN COALESCE((
        6 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__industry_education")
    END AS "__key3_6",
    CASE
      WHEN COALESCE((
        7 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__industry_healthcare")
    END AS "__key3_7",
    CASE
      WHEN COALESCE((
        8 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__industry_technology")
    END AS "__key3_8",
    CASE
      WHEN COALESCE((
        9 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("intent")
    END AS "__key3_9",
    CASE
      WHEN COALESCE((
        10 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__malformed_email")
    END AS "__key3_10",
    CASE
      WHEN COALESCE((
        11 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__personal_email")
    END AS "__key3_11",
    CASE
      WHEN COALESCE((
        12 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__region_europe")
    END AS "__key3_12",
    CASE
      WHEN COALESCE((
        13 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__region_north_america")
    END AS "__key3_13",
    CASE
      WHEN COALESCE((
        14 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_c_level")
    END AS "__key3_14",
    CASE
      WHEN COALESCE((
        15 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_director")
    END AS "__key3_15",
    CASE
      WHEN COALESCE((
        16 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_manager")
    END AS "__key3_16",
    CASE
      WHEN COALESCE((
        17 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__seniority_vp")
    END AS "__key3_17",
    CASE
      WHEN COALESCE((
        18 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__student_or_intern")
    END AS "__key3_18",
    CASE
      WHEN COALESCE((
        19 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__target_account")
    END AS "__key3_19",
    CASE
      WHEN COALESCE((
        20 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("pts__unsubscribed")
    END AS "__key3_20",
    CASE
      WHEN COALESCE((
        21 IN ("__pick1", "__pick2")
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE PRECISION)
      ELSE ABS("web")
    END AS "__key3_21"
  FROM p2
), b3 AS MATERIALIZED (
  SELECT
    *,
    GREATEST(
      "__key3_1",
      "__key3_2",
      "__key3_3",
      "__key3_4",
      "__key3_5",
      "__key3_6",
      "__key3_7",
      "__key3_8",
      "__key3_9",
      "__key3_10",
      "__key3_11",
      "__key3_12",
      "__key3_13",
      "__key3_14",
      "__key3_15",
      "__key3_16",
      "__key3_17",
      "__key3_18",
      "__key3_19",
      "__key3_20",
      "__key3_21"
    ) AS "__best3"
  FROM k3
), p3 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN "__best3" > CAST(0.0 AS DOUBLE PRECISION)
      THEN CASE
        WHEN "__key3_1" = "__best3"
        THEN 1
        WHEN "__key3_2" = "__best3"
        THEN 2
        WHEN "__key3_3" = "__best3"
        THEN 3
        WHEN "__key3_4" = "__best3"
        THEN 4
        WHEN "__key3_5" = "__best3"
        THEN 5
        WHEN "__key3_6" = "__best3"
        THEN 6
        WHEN "__key3_7" = "__best3"
        THEN 7
        WHEN "__key3_8" = "__best3"
        THEN 8
        WHEN "__key3_9" = "__best3"
        THEN 9
        WHEN "__key3_10" = "__best3"
        THEN 10
        WHEN "__key3_11" = "__best3"
        THEN 11
        WHEN "__key3_12" = "__best3"
        THEN 12
        WHEN "__key3_13" = "__best3"
        THEN 13
        WHEN "__key3_14" = "__best3"
        THEN 14
        WHEN "__key3_15" = "__best3"
        THEN 15
        WHEN "__key3_16" = "__best3"
        THEN 16
        WHEN "__key3_17" = "__best3"
        THEN 17
        WHEN "__key3_18" = "__best3"
        THEN 18
        WHEN "__key3_19" = "__best3"
        THEN 19
        WHEN "__key3_20" = "__best3"
        THEN 20
        WHEN "__key3_21" = "__best3"
        THEN 21
      END
    END AS "__pick3"
  FROM b3
), o AS MATERIALIZED (
  SELECT
    *
  FROM p3
)
SELECT
  "lead_id",
  "account_id",
  NULL AS "segment",
  "fit",
  "engagement",
  "negative",
  "email",
  "web",
  "intent",
  "total",
  "grade",
  "stage",
  "next_action",
  CASE "__pick1"
    WHEN 1
    THEN 'bounced'
    WHEN 2
    THEN 'competitor'
    WHEN 3
    THEN 'email'
    WHEN 4
    THEN 'employees_101_500'
    WHEN 5
    THEN 'employees_gt_500'
    WHEN 6
    THEN 'industry_education'
    WHEN 7
    THEN 'industry_healthcare'
    WHEN 8
    THEN 'industry_technology'
    WHEN 9
    THEN 'intent'
    WHEN 10
    THEN 'malformed_email'
    WHEN 11
    THEN 'personal_email'
    WHEN 12
    THEN 'region_europe'
    WHEN 13
    THEN 'region_north_america'
    WHEN 14
    THEN 'seniority_c_level'
    WHEN 15
    THEN 'seniority_director'
    WHEN 16
    THEN 'seniority_manager'
    WHEN 17
    THEN 'seniority_vp'
    WHEN 18
    THEN 'student_or_intern'
    WHEN 19
    THEN 'target_account'
    WHEN 20
    THEN 'unsubscribed'
    WHEN 21
    THEN 'web'
  END AS "reason1",
  CASE "__pick1"
    WHEN 1
    THEN "pts__bounced"
    WHEN 2
    THEN "pts__competitor"
    WHEN 3
    THEN "email"
    WHEN 4
    THEN "pts__employees_101_500"
    WHEN 5
    THEN "pts__employees_gt_500"
    WHEN 6
    THEN "pts__industry_education"
    WHEN 7
    THEN "pts__industry_healthcare"
    WHEN 8
    THEN "pts__industry_technology"
    WHEN 9
    THEN "intent"
    WHEN 10
    THEN "pts__malformed_email"
    WHEN 11
    THEN "pts__personal_email"
    WHEN 12
    THEN "pts__region_europe"
    WHEN 13
    THEN "pts__region_north_america"
    WHEN 14
    THEN "pts__seniority_c_level"
    WHEN 15
    THEN "pts__seniority_director"
    WHEN 16
    THEN "pts__seniority_manager"
    WHEN 17
    THEN "pts__seniority_vp"
    WHEN 18
    THEN "pts__student_or_intern"
    WHEN 19
    THEN "pts__target_account"
    WHEN 20
    THEN "pts__unsubscribed"
    WHEN 21
    THEN "web"
  END AS "points1",
  CASE "__pick2"
    WHEN 1
    THEN 'bounced'
    WHEN 2
    THEN 'competitor'
    WHEN 3
    THEN 'email'
    WHEN 4
    THEN 'employees_101_500'
    WHEN 5
    THEN 'employees_gt_500'
    WHEN 6
    THEN 'industry_education'
    WHEN 7
    THEN 'industry_healthcare'
    WHEN 8
    THEN 'industry_technology'
    WHEN 9
    THEN 'intent'
    WHEN 10
    THEN 'malformed_email'
    WHEN 11
    THEN 'personal_email'
    WHEN 12
    THEN 'region_europe'
    WHEN 13
    THEN 'region_north_america'
    WHEN 14
    THEN 'seniority_c_level'
    WHEN 15
    THEN 'seniority_director'
    WHEN 16
    THEN 'seniority_manager'
    WHEN 17
    THEN 'seniority_vp'
    WHEN 18
    THEN 'student_or_intern'
    WHEN 19
    THEN 'target_account'
    WHEN 20
    THEN 'unsubscribed'
    WHEN 21
    THEN 'web'
  END AS "reason2",
  CASE "__pick2"
    WHEN 1
    THEN "pts__bounced"
    WHEN 2
    THEN "pts__competitor"
    WHEN 3
    THEN "email"
    WHEN 4
    THEN "pts__employees_101_500"
    WHEN 5
    THEN "pts__employees_gt_500"
    WHEN 6
    THEN "pts__industry_education"
    WHEN 7
    THEN "pts__industry_healthcare"
    WHEN 8
    THEN "pts__industry_technology"
    WHEN 9
    THEN "intent"
    WHEN 10
    THEN "pts__malformed_email"
    WHEN 11
    THEN "pts__personal_email"
    WHEN 12
    THEN "pts__region_europe"
    WHEN 13
    THEN "pts__region_north_america"
    WHEN 14
    THEN "pts__seniority_c_level"
    WHEN 15
    THEN "pts__seniority_director"
    WHEN 16
    THEN "pts__seniority_manager"
    WHEN 17
    THEN "pts__seniority_vp"
    WHEN 18
    THEN "pts__student_or_intern"
    WHEN 19
    THEN "pts__target_account"
    WHEN 20
    THEN "pts__unsubscribed"
    WHEN 21
    THEN "web"
  END AS "points2",
  CASE "__pick3"
    WHEN 1
    THEN 'bounced'
    WHEN 2
    THEN 'competitor'
    WHEN 3
    THEN 'email'
    WHEN 4
    THEN 'employees_101_500'
    WHEN 5
    THEN 'employees_gt_500'
    WHEN 6
    THEN 'industry_education'
    WHEN 7
    THEN 'industry_healthcare'
    WHEN 8
    THEN 'industry_technology'
    WHEN 9
    THEN 'intent'
    WHEN 10
    THEN 'malformed_email'
    WHEN 11
    THEN 'personal_email'
    WHEN 12
    THEN 'region_europe'
    WHEN 13
    THEN 'region_north_america'
    WHEN 14
    THEN 'seniority_c_level'
    WHEN 15
    THEN 'seniority_director'
    WHEN 16
    THEN 'seniority_manager'
    WHEN 17
    THEN 'seniority_vp'
    WHEN 18
    THEN 'student_or_intern'
    WHEN 19
    THEN 'target_account'
    WHEN 20
    THEN 'unsubscribed'
    WHEN 21
    THEN 'web'
  END AS "reason3",
  CASE "__pick3"
    WHEN 1
    THEN "pts__bounced"
    WHEN 2
    THEN "pts__competitor"
    WHEN 3
    THEN "email"
    WHEN 4
    THEN "pts__employees_101_500"
    WHEN 5
    THEN "pts__employees_gt_500"
    WHEN 6
    THEN "pts__industry_education"
    WHEN 7
    THEN "pts__industry_healthcare"
    WHEN 8
    THEN "pts__industry_technology"
    WHEN 9
    THEN "intent"
    WHEN 10
    THEN "pts__malformed_email"
    WHEN 11
    THEN "pts__personal_email"
    WHEN 12
    THEN "pts__region_europe"
    WHEN 13
    THEN "pts__region_north_america"
    WHEN 14
    THEN "pts__seniority_c_level"
    WHEN 15
    THEN "pts__seniority_director"
    WHEN 16
    THEN "pts__seniority_manager"
    WHEN 17
    THEN "pts__seniority_vp"
    WHEN 18
    THEN "pts__student_or_intern"
    WHEN 19
    THEN "pts__target_account"
    WHEN 20
    THEN "pts__unsubscribed"
    WHEN 21
    THEN "web"
  END AS "points3",
  "last_activity_at",
  "last_activity_type",
  "why:seniority_c_level",
  "why:seniority_vp",
  "why:seniority_director",
  "why:seniority_manager",
  "why:industry_technology",
  "why:industry_healthcare",
  "why:industry_education",
  "why:employees_gt_500",
  "why:employees_101_500",
  "why:region_north_america",
  "why:region_europe",
  "why:target_account",
  "why:fit:cap",
  "why:email_open",
  "why:email_click",
  "why:email:cap",
  "why:page_view",
  "why:blog_visit",
  "why:content_download",
  "why:pricing_page_view",
  "why:webinar_registered",
  "why:webinar_attended",
  "why:web:cap",
  "why:contact_form",
  "why:demo_request",
  "why:free_trial_signup",
  "why:intent:cap",
  "why:personal_email",
  "why:student_or_intern",
  "why:competitor",
  "why:malformed_email",
  "why:unsubscribed",
  "why:bounced",
  "why:total:cap"
FROM o;

-- leadscore model 'bench-reference' (bb314d2625db2c3f), postgres, as of 2026-06-30 00:00:00
-- account_scores: one row per account, from lead_scores
WITH ranked AS MATERIALIZED (
  SELECT
    "account_id",
    "lead_id",
    "total",
    NULL AS "committee_role",
    ROW_NUMBER() OVER (PARTITION BY "account_id" ORDER BY "total" DESC NULLS LAST, "lead_id") AS "rk"
  FROM lead_scores
  WHERE
    NOT "account_id" IS NULL
), agg AS MATERIALIZED (
  SELECT
    "account_id",
    COUNT(*) AS "lead_count",
    COALESCE(SUM("total") FILTER(WHERE
      "rk" <= 3), CAST(0.0 AS DOUBLE PRECISION)) AS "top_leads_sum",
    COUNT(*) FILTER(WHERE
      "total" >= CAST(30.0 AS DOUBLE PRECISION)) AS "engaged_leads",
    COUNT(*) FILTER(WHERE
      "rk" > 3 AND "total" >= CAST(30.0 AS DOUBLE PRECISION)) AS "engaged_beyond_top",
    ARRAY_AGG("lead_id" ORDER BY "rk") FILTER(WHERE
      "rk" <= 3) AS "top_leads",
    ARRAY_AGG(DISTINCT "committee_role" COLLATE "C" ORDER BY "committee_role" COLLATE "C") FILTER(WHERE
      "total" >= CAST(30.0 AS DOUBLE PRECISION) AND NOT "committee_role" IS NULL) AS "committee_roles"
  FROM ranked
  GROUP BY
    "account_id"
), parts AS MATERIALIZED (
  SELECT
    g.*,
    CAST("engaged_beyond_top" AS DOUBLE PRECISION) * CAST(10.0 AS DOUBLE PRECISION) AS "pts__engaged_beyond_top",
    CASE
      WHEN COALESCE((
        "a"."is_target_account"
      ), FALSE)
      THEN COALESCE(
        CAST(CAST("a"."intent_score" AS DOUBLE PRECISION) / 10 AS DOUBLE PRECISION),
        CAST(0.0 AS DOUBLE PRECISION)
      )
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS "pts__third_party_intent"
  FROM agg AS g
  INNER JOIN accounts AS a
    ON "g"."account_id" = "a"."account_id"
), scored AS MATERIALIZED (
  SELECT
    *,
    (
      "top_leads_sum" + "pts__engaged_beyond_top" + "pts__third_party_intent"
    ) AS "score__raw"
  FROM parts
)
SELECT
  "s"."account_id",
  "score__raw" AS "account_score",
  "engaged_leads",
  "lead_count",
  "top_leads",
  "committee_roles",
  COALESCE(ARRAY_LENGTH("committee_roles", 1), 0) AS "committee_coverage",
  0 AS "committee_roles_defined",
  JSONB_PATH_QUERY_ARRAY(
    JSONB_BUILD_ARRAY(
      JSONB_BUILD_OBJECT('rule', 'top_leads_sum', 'points', "top_leads_sum"),
      JSONB_BUILD_OBJECT('rule', 'engaged_beyond_top', 'points', "pts__engaged_beyond_top"),
      JSONB_BUILD_OBJECT('rule', 'third_party_intent', 'points', "pts__third_party_intent")
    ),
    '$[*] ? (@.points != 0)'
  ) AS "reasons"
FROM scored AS s;
