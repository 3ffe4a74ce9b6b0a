-- leadscore model 'b2b-saas' (9d7526f68a775c2b), spark, as of 2026-06-30 00:00:00
-- lead_scores: one row per lead of leads
WITH ev_in AS (
  SELECT
    *,
    CASE
      WHEN `__type_code` IN (7, 8)
      THEN CASE
        WHEN `__age` >= CAST(90.0 AS DOUBLE)
        THEN CAST(0.0 AS DOUBLE)
        WHEN `__age` >= CAST(30.0 AS DOUBLE)
        THEN CAST(0.5 AS DOUBLE)
        ELSE CAST(1.0 AS DOUBLE)
      END
    END AS `__factor0`,
    CASE
      WHEN `__type_code` IN (1, 2, 4, 10, 14)
      THEN POWER(CAST(0.5 AS DOUBLE), `__age` / CAST(45.0 AS DOUBLE))
    END AS `__factor1`,
    CASE
      WHEN `__type_code` IN (13)
      THEN CASE
        WHEN `__age` > CAST(90.0 AS DOUBLE)
        THEN CAST(0.0 AS DOUBLE)
        ELSE POWER(CAST(0.5 AS DOUBLE), `__age` / CAST(45.0 AS DOUBLE))
      END
    END AS `__factor2`,
    CASE
      WHEN `__type_code` IN (3, 5, 9, 10, 11)
      THEN POWER(CAST(0.5 AS DOUBLE), `__age` / CAST(14.0 AS DOUBLE))
    END AS `__factor3`
  FROM (
    SELECT
      `lead_id` AS `__lead`,
      `event_id`,
      `ts`,
      `type`,
      `url`,
      CAST((
        UNIX_MICROS(CAST('2026-06-30 00:00:00' AS TIMESTAMP)) - UNIX_MICROS(`ts`)
      ) AS DOUBLE) / CAST(86400000000.0 AS DOUBLE) AS `__age`,
      CASE `type`
        WHEN 'blog_visit'
        THEN 1
        WHEN 'case_study_view'
        THEN 2
        WHEN 'contact_form'
        THEN 3
        WHEN 'content_download'
        THEN 4
        WHEN 'demo_request'
        THEN 5
        WHEN 'email_bounce'
        THEN 6
        WHEN 'email_click'
        THEN 7
        WHEN 'email_open'
        THEN 8
        WHEN 'free_trial_signup'
        THEN 9
        WHEN 'page_view'
        THEN 10
        WHEN 'pricing_page_view'
        THEN 11
        WHEN 'unsubscribe'
        THEN 12
        WHEN 'webinar_attended'
        THEN 13
        WHEN 'webinar_registered'
        THEN 14
        ELSE 0
      END AS `__type_code`
    FROM events
    WHERE
      `ts` < CAST('2026-06-30 00:00:00' AS TIMESTAMP)
  )
), ev_ranked AS (
  SELECT
    *,
    CASE
      WHEN `__type_code` = 8
      THEN ROW_NUMBER() OVER (
        PARTITION BY `__lead`, (
          `__type_code` = 8
        )
        ORDER BY `ts` DESC, `event_id` ASC NULLS LAST
      )
    END AS `rn__email_open`,
    CASE
      WHEN `__type_code` = 7
      THEN ROW_NUMBER() OVER (
        PARTITION BY `__lead`, (
          `__type_code` = 7
        )
        ORDER BY `ts` DESC, `event_id` ASC NULLS LAST
      )
    END AS `rn__email_click`,
    CASE
      WHEN `__type_code` = 10
      THEN ROW_NUMBER() OVER (
        PARTITION BY `__lead`, (
          `__type_code` = 10
        )
        ORDER BY `ts` DESC, `event_id` ASC NULLS LAST
      )
    END AS `rn__page_view`,
    CASE
      WHEN `__type_code` = 1
      THEN ROW_NUMBER() OVER (
        PARTITION BY `__lead`, (
          `__type_code` = 1
        )
        ORDER BY `ts` DESC, `event_id` ASC NULLS LAST
      )
    END AS `rn__blog_visit`,
    CASE
      WHEN `__type_code` = 4
      THEN ROW_NUMBER() OVER (
        PARTITION BY `__lead`, (
          `__type_code` = 4
        )
        ORDER BY `ts` DESC, `event_id` ASC NULLS LAST
      )
    END AS `rn__content_download`,
    CASE
      WHEN `__type_code` = 11
      THEN ROW_NUMBER() OVER (
        PARTITION BY `__lead`, (
          `__type_code` = 11
        )
        ORDER BY `ts` DESC, `event_id` ASC NULLS LAST
      )
    END AS `rn__pricing_page_view`,
    CASE
      WHEN `__type_code` = 10 AND COALESCE((
        `url` LIKE '/pricing%'
      ), FALSE)
      THEN ROW_NUMBER() OVER (
        PARTITION BY `__lead`, (
          `__type_code` = 10 AND COALESCE((
            `url` LIKE '/pricing%'
          ), FALSE)
        )
        ORDER BY `ts` DESC, `event_id` ASC NULLS LAST
      )
    END AS `rn__pricing_url`
  FROM ev_in
), ev AS (
  SELECT
    `__lead`,
    CAST(1.0 AS DOUBLE) * CAST(SUM(`__factor0`) FILTER(WHERE
      `__type_code` = 8 AND `rn__email_open` <= 10) AS DOUBLE) AS `pts__email_open`,
    CAST(4.0 AS DOUBLE) * CAST(SUM(`__factor0`) FILTER(WHERE
      `__type_code` = 7 AND `rn__email_click` <= 5) AS DOUBLE) AS `pts__email_click`,
    CAST(1.0 AS DOUBLE) * CAST(SUM(`__factor1`) FILTER(WHERE
      `__type_code` = 10 AND `rn__page_view` <= 10) AS DOUBLE) AS `pts__page_view`,
    CAST(3.0 AS DOUBLE) * CAST(SUM(`__factor1`) FILTER(WHERE
      `__type_code` = 1 AND `rn__blog_visit` <= 5) AS DOUBLE) AS `pts__blog_visit`,
    CAST(8.0 AS DOUBLE) * CAST(SUM(`__factor1`) FILTER(WHERE
      `__type_code` = 4 AND `rn__content_download` <= 3) AS DOUBLE) AS `pts__content_download`,
    CAST(6.0 AS DOUBLE) * CAST(SUM(`__factor1`) FILTER(WHERE
      `__type_code` = 2) AS DOUBLE) AS `pts__case_study_view`,
    CAST(5.0 AS DOUBLE) * CAST(SUM(`__factor1`) FILTER(WHERE
      `__type_code` = 14) AS DOUBLE) AS `pts__webinar_registered`,
    CAST(12.0 AS DOUBLE) * CAST(SUM(`__factor2`) FILTER(WHERE
      `__type_code` = 13) AS DOUBLE) AS `pts__webinar_attended`,
    CAST(15.0 AS DOUBLE) * CAST(SUM(`__factor3`) FILTER(WHERE
      `__type_code` = 11 AND `rn__pricing_page_view` <= 3) AS DOUBLE) AS `pts__pricing_page_view`,
    CAST(10.0 AS DOUBLE) * CAST(SUM(`__factor3`) FILTER(WHERE
      (
        `__type_code` = 10 AND COALESCE((
          `url` LIKE '/pricing%'
        ), FALSE)
      )
      AND `rn__pricing_url` <= 2) AS DOUBLE) AS `pts__pricing_url`,
    CAST(30.0 AS DOUBLE) * CAST(SUM(`__factor3`) FILTER(WHERE
      `__type_code` = 9) AS DOUBLE) AS `pts__free_trial_signup`,
    CAST(40.0 AS DOUBLE) * CAST(SUM(`__factor3`) FILTER(WHERE
      `__type_code` = 3) AS DOUBLE) AS `pts__contact_form`,
    CAST(45.0 AS DOUBLE) * CAST(SUM(`__factor3`) FILTER(WHERE
      `__type_code` = 5) AS DOUBLE) AS `pts__demo_request`,
    COUNT(*) FILTER(WHERE
      `__type_code` = 6) AS `agg__agg:count:email_bounce:None`,
    COUNT(*) FILTER(WHERE
      (
        (
          `__type_code` = 11
        )
        OR (
          `__type_code` = 10 AND COALESCE((
            `url` LIKE '/pricing%'
          ), FALSE)
        )
        OR (
          `__type_code` = 9
        )
        OR (
          `__type_code` = 3
        )
        OR (
          `__type_code` = 5
        )
      )
      AND `__age` <= CAST(30.0 AS DOUBLE)) AS `agg__agg:count:intent:30.0`,
    COUNT(*) FILTER(WHERE
      `__type_code` = 12) AS `agg__agg:count:unsubscribe:None`,
    MIN(`__age`) FILTER(WHERE
      TRUE) AS `agg__agg:last_age:None:None`,
    MAX(
      UNIX_MICROS(`ts`) * 9 + CASE `__type_code`
        WHEN 1
        THEN 0
        WHEN 2
        THEN 1
        WHEN 3
        THEN 2
        WHEN 4
        THEN 3
        WHEN 5
        THEN 4
        WHEN 7
        THEN 5
        WHEN 9
        THEN 6
        WHEN 11
        THEN 7
        WHEN 13
        THEN 8
      END
    ) FILTER(WHERE
      `__type_code` IN (1, 2, 3, 4, 5, 7, 9, 11, 13)) AS `__last_activity`
  FROM ev_ranked
  GROUP BY
    `__lead`
), leads_dup AS (
  SELECT
    *,
    NOT `email` IS NULL
    AND ROW_NUMBER() OVER (PARTITION BY LOWER(TRIM(`email`)) ORDER BY `created_at`, `lead_id`) > 1 AS `__is_duplicate`
  FROM leads
), r AS (
  SELECT
    `l`.`lead_id` AS `lead_id`,
    `l`.`account_id` AS `account_id`,
    CASE
      WHEN COALESCE((
        `l`.`seniority` IN ('c_level', 'vp')
      ), FALSE)
      THEN CAST(15.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__senior_title`,
    CASE
      WHEN COALESCE((
        `l`.`seniority` = 'director'
      ), FALSE)
      THEN CAST(10.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__director_title`,
    CASE
      WHEN COALESCE((
        `l`.`seniority` = 'manager'
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__manager_title`,
    CASE
      WHEN COALESCE((
        `l`.`function` IN ('marketing', 'sales', 'it')
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__buying_function`,
    CASE LOWER(CAST(`a`.`industry` AS STRING))
      WHEN 'technology'
      THEN CAST(15.0 AS DOUBLE)
      WHEN 'finance'
      THEN CAST(10.0 AS DOUBLE)
      WHEN 'healthcare'
      THEN CAST(8.0 AS DOUBLE)
      WHEN 'manufacturing'
      THEN CAST(5.0 AS DOUBLE)
      WHEN 'education'
      THEN CAST(3.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__industry`,
    CASE
      WHEN COALESCE((
        `a`.`employees` > 1000
      ), FALSE)
      THEN CAST(10.0 AS DOUBLE)
      WHEN COALESCE((
        `a`.`employees` > 200
      ), FALSE)
      THEN CAST(7.0 AS DOUBLE)
      WHEN COALESCE((
        `a`.`employees` > 50
      ), FALSE)
      THEN CAST(4.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__company_size`,
    CASE
      WHEN COALESCE((
        `l`.`region` IN ('north_america', 'europe')
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__target_region`,
    CASE
      WHEN COALESCE(
        (
          COALESCE(
            (
              `a`.`tech_stack` RLIKE '(?i)(^|[^A-Za-z0-9_])(salesforce|hubspot)([^A-Za-z0-9_]|$)'
            ),
            FALSE
          )
        ),
        FALSE
      )
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__uses_crm`,
    CASE LOWER(CAST(`a`.`target_tier` AS STRING))
      WHEN 'tier_1'
      THEN CAST(15.0 AS DOUBLE)
      WHEN 'tier_2'
      THEN CAST(10.0 AS DOUBLE)
      WHEN 'tier_3'
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__target_tier`,
    CASE
      WHEN COALESCE((
        `a`.`annual_revenue` >= 100000000
      ), FALSE)
      THEN CAST(15.0 AS DOUBLE)
      WHEN COALESCE((
        `a`.`annual_revenue` >= 10000000
      ), FALSE)
      THEN CAST(8.0 AS DOUBLE)
      WHEN COALESCE((
        `a`.`annual_revenue` >= 1000000
      ), FALSE)
      THEN CAST(3.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__annual_revenue`,
    CASE
      WHEN COALESCE((
        `a`.`intent_score` >= 70
      ), FALSE)
      THEN CAST(10.0 AS DOUBLE)
      WHEN COALESCE((
        `a`.`intent_score` >= 40
      ), FALSE)
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__third_party_intent`,
    CASE
      WHEN COALESCE(
        (
          (
            CASE
              WHEN LENGTH(`l`.`email`) - LENGTH(REPLACE(`l`.`email`, '@', '')) = 1
              AND LOCATE('.', SPLIT_PART(`l`.`email`, '@', 2)) > 0
              THEN LOWER(SPLIT_PART(`l`.`email`, '@', 2))
            END
          ) IN (
            'gmail.com',
            'googlemail.com',
            'yahoo.com',
            'yahoo.co.uk',
            'yahoo.fr',
            'ymail.com',
            'hotmail.com',
            'hotmail.co.uk',
            'hotmail.fr',
            'outlook.com',
            'live.com',
            'msn.com',
            'aol.com',
            'icloud.com',
            'me.com',
            'mac.com',
            'protonmail.com',
            'proton.me',
            'gmx.com',
            'gmx.de',
            'gmx.net',
            'web.de',
            'mail.com',
            'yandex.com',
            'yandex.ru',
            'mail.ru',
            'zoho.com',
            'qq.com',
            '163.com',
            '126.com',
            'rediffmail.com',
            'libero.it',
            'orange.fr',
            'free.fr',
            'laposte.net',
            't-online.de',
            'comcast.net',
            'verizon.net',
            'att.net',
            'sbcglobal.net',
            'btinternet.com',
            'fastmail.com',
            'hey.com',
            'tutanota.com'
          )
        ),
        FALSE
      )
      THEN CAST(-15.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__personal_email`,
    COALESCE(
      (
        (
          CASE
            WHEN LENGTH(`l`.`email`) - LENGTH(REPLACE(`l`.`email`, '@', '')) = 1
            AND LOCATE('.', SPLIT_PART(`l`.`email`, '@', 2)) > 0
            THEN LOWER(SPLIT_PART(`l`.`email`, '@', 2))
          END
        ) IN (
          'gmail.com',
          'googlemail.com',
          'yahoo.com',
          'yahoo.co.uk',
          'yahoo.fr',
          'ymail.com',
          'hotmail.com',
          'hotmail.co.uk',
          'hotmail.fr',
          'outlook.com',
          'live.com',
          'msn.com',
          'aol.com',
          'icloud.com',
          'me.com',
          'mac.com',
          'protonmail.com',
          'proton.me',
          'gmx.com',
          'gmx.de',
          'gmx.net',
          'web.de',
          'mail.com',
          'yandex.com',
          'yandex.ru',
          'mail.ru',
          'zoho.com',
          'qq.com',
          '163.com',
          '126.com',
          'rediffmail.com',
          'libero.it',
          'orange.fr',
          'free.fr',
          'laposte.net',
          't-online.de',
          'comcast.net',
          'verizon.net',
          'att.net',
          'sbcglobal.net',
          'btinternet.com',
          'fastmail.com',
          'hey.com',
          'tutanota.com'
        )
      ),
      FALSE
    ) AS `fired__personal_email`,
    CASE
      WHEN COALESCE(
        (
          COALESCE(
            (
              `l`.`job_title` RLIKE '(?i)(^|[^A-Za-z0-9_])(student|intern)([^A-Za-z0-9_]|$)'
            ),
            FALSE
          )
        ),
        FALSE
      )
      THEN CAST(-25.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__student_or_intern`,
    COALESCE(
      (
        COALESCE(
          (
            `l`.`job_title` RLIKE '(?i)(^|[^A-Za-z0-9_])(student|intern)([^A-Za-z0-9_]|$)'
          ),
          FALSE
        )
      ),
      FALSE
    ) AS `fired__student_or_intern`,
    CASE
      WHEN COALESCE(
        (
          (
            CASE
              WHEN LENGTH(`l`.`email`) - LENGTH(REPLACE(`l`.`email`, '@', '')) = 1
              AND LOCATE('.', SPLIT_PART(`l`.`email`, '@', 2)) > 0
              THEN LOWER(SPLIT_PART(`l`.`email`, '@', 2))
            END
          ) IN ('leadforge.io', 'scorewise.com', 'pipelinepro.com')
        ),
        FALSE
      )
      THEN CAST(-100.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__competitor`,
    COALESCE(
      (
        (
          CASE
            WHEN LENGTH(`l`.`email`) - LENGTH(REPLACE(`l`.`email`, '@', '')) = 1
            AND LOCATE('.', SPLIT_PART(`l`.`email`, '@', 2)) > 0
            THEN LOWER(SPLIT_PART(`l`.`email`, '@', 2))
          END
        ) IN ('leadforge.io', 'scorewise.com', 'pipelinepro.com')
      ),
      FALSE
    ) AS `fired__competitor`,
    CASE
      WHEN COALESCE(
        (
          NOT COALESCE(
            (
              LENGTH(`l`.`email`) - LENGTH(REPLACE(`l`.`email`, '@', '')) = 1
              AND LOCATE('.', SPLIT_PART(`l`.`email`, '@', 2)) > 0
            ),
            FALSE
          )
        ),
        FALSE
      )
      THEN CAST(-20.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__malformed_email`,
    CASE
      WHEN COALESCE((
        `l`.`__is_duplicate`
      ), FALSE)
      THEN CAST(-30.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__duplicate_lead`,
    CASE
      WHEN COALESCE((
        COALESCE(`e`.`agg__agg:count:unsubscribe:None`, 0) >= 1
      ), FALSE)
      THEN CAST(-10.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__unsubscribed`,
    CASE
      WHEN COALESCE((
        COALESCE(`e`.`agg__agg:count:email_bounce:None`, 0) >= 1
      ), FALSE)
      THEN CAST(-10.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__bounced`,
    CASE
      WHEN COALESCE(
        (
          COALESCE(
            `e`.`agg__agg:last_age:None:None`,
            CAST((
              UNIX_MICROS(CAST('2026-06-30 00:00:00' AS TIMESTAMP)) - UNIX_MICROS(`l`.`created_at`)
            ) AS DOUBLE) / CAST(86400000000.0 AS DOUBLE)
          ) > 90
        ),
        FALSE
      )
      THEN CAST(-10.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__inactive_90d`,
    COALESCE(`e`.`pts__email_open`, CAST(0.0 AS DOUBLE)) AS `pts__email_open`,
    COALESCE(`e`.`pts__email_click`, CAST(0.0 AS DOUBLE)) AS `pts__email_click`,
    COALESCE(`e`.`pts__page_view`, CAST(0.0 AS DOUBLE)) AS `pts__page_view`,
    COALESCE(`e`.`pts__blog_visit`, CAST(0.0 AS DOUBLE)) AS `pts__blog_visit`,
    COALESCE(`e`.`pts__content_download`, CAST(0.0 AS DOUBLE)) AS `pts__content_download`,
    COALESCE(`e`.`pts__case_study_view`, CAST(0.0 AS DOUBLE)) AS `pts__case_study_view`,
    COALESCE(`e`.`pts__webinar_registered`, CAST(0.0 AS DOUBLE)) AS `pts__webinar_registered`,
    COALESCE(`e`.`pts__webinar_attended`, CAST(0.0 AS DOUBLE)) AS `pts__webinar_attended`,
    COALESCE(`e`.`pts__pricing_page_view`, CAST(0.0 AS DOUBLE)) AS `pts__pricing_page_view`,
    COALESCE(`e`.`pts__pricing_url`, CAST(0.0 AS DOUBLE)) AS `pts__pricing_url`,
    COALESCE(`e`.`pts__free_trial_signup`, CAST(0.0 AS DOUBLE)) AS `pts__free_trial_signup`,
    COALESCE(`e`.`pts__contact_form`, CAST(0.0 AS DOUBLE)) AS `pts__contact_form`,
    COALESCE(`e`.`pts__demo_request`, CAST(0.0 AS DOUBLE)) AS `pts__demo_request`,
    COALESCE(`e`.`agg__agg:count:intent:30.0`, 0) AS `ref__agg:count:intent:30.0`,
    `l`.`seniority` AS `ref__lead:seniority`,
    CAST(TIMESTAMP_MICROS(
      (
        `e`.`__last_activity` - (
          (
            `e`.`__last_activity` % 9 + 9
          ) % 9
        )
      ) DIV 9
    ) AS TIMESTAMP) AS `last_activity_at`,
    CASE (
        `e`.`__last_activity` % 9 + 9
      ) % 9
      WHEN 0
      THEN 'blog_visit'
      WHEN 1
      THEN 'case_study_view'
      WHEN 2
      THEN 'contact_form'
      WHEN 3
      THEN 'content_download'
      WHEN 4
      THEN 'demo_request'
      WHEN 5
      THEN 'email_click'
      WHEN 6
      THEN 'free_trial_signup'
      WHEN 7
      THEN 'pricing_page_view'
      WHEN 8
      THEN 'webinar_attended'
    END AS `last_activity_type`,
    CASE
      WHEN COALESCE((
        `l`.`seniority` IN ('c_level', 'vp')
      ), FALSE)
      THEN 'decision_maker'
      WHEN COALESCE((
        `l`.`seniority` = 'director'
      ), FALSE)
      THEN 'champion'
      WHEN COALESCE((
        `l`.`seniority` = 'manager'
      ), FALSE)
      THEN 'influencer'
      WHEN COALESCE((
        `l`.`seniority` = 'individual'
      ), FALSE)
      THEN 'user'
    END AS `committee_role`
  FROM leads_dup AS l
  LEFT JOIN accounts AS a
    ON `l`.`account_id` = `a`.`account_id`
  LEFT JOIN ev AS e
    ON `l`.`lead_id` = `e`.`__lead`
), g AS (
  SELECT
    *,
    (
      `pts__email_open` + `pts__email_click`
    ) AS `graw__email`,
    (
      `pts__page_view` + `pts__blog_visit` + `pts__content_download` + `pts__case_study_view` + `pts__webinar_registered` + `pts__webinar_attended`
    ) AS `graw__content`,
    (
      `pts__pricing_page_view` + `pts__pricing_url` + `pts__free_trial_signup` + `pts__contact_form` + `pts__demo_request`
    ) AS `graw__intent`
  FROM r
), g2 AS (
  SELECT
    *,
    LEAST(`graw__email`, CAST(20.0 AS DOUBLE)) AS `email`,
    LEAST(`graw__content`, CAST(30.0 AS DOUBLE)) AS `content`,
    LEAST(`graw__intent`, CAST(70.0 AS DOUBLE)) AS `intent`
  FROM g
), lr AS (
  SELECT
    *,
    (
      `pts__senior_title` + `pts__director_title` + `pts__manager_title` + `pts__buying_function` + `pts__industry` + `pts__company_size` + `pts__target_region` + `pts__uses_crm` + `pts__target_tier`
    ) AS `lraw__fit`,
    `pts__annual_revenue` AS `lraw__revenue`,
    (
      `email` + `content`
    ) AS `lraw__engagement`,
    (
      `pts__third_party_intent` + `intent`
    ) AS `lraw__readiness`,
    (
      `pts__personal_email` + `pts__student_or_intern` + `pts__competitor` + `pts__malformed_email` + `pts__duplicate_lead` + `pts__unsubscribed` + `pts__bounced` + `pts__inactive_90d`
    ) AS `lraw__negative`
  FROM g2
), lv AS (
  SELECT
    *,
    LEAST(`lraw__fit`, CAST(60.0 AS DOUBLE)) AS `fit`,
    LEAST(`lraw__revenue`, CAST(15.0 AS DOUBLE)) AS `revenue`,
    `lraw__engagement` AS `engagement`,
    `lraw__readiness` AS `readiness`,
    `lraw__negative` AS `negative`
  FROM lr
), traw AS (
  SELECT
    *,
    (
      `fit` + `revenue` + `engagement` + `readiness` + `negative`
    ) AS `total__raw`
  FROM lv
), t AS (
  SELECT
    *,
    LEAST(GREATEST(`total__raw`, CAST(0.0 AS DOUBLE)), CAST(200.0 AS DOUBLE)) AS `total`
  FROM traw
), o0 AS (
  SELECT
    *,
    CASE
      WHEN COALESCE((
        `fit` >= 45
      ), FALSE)
      THEN 'A'
      WHEN COALESCE((
        `fit` >= 30
      ), FALSE)
      THEN 'B'
      WHEN COALESCE((
        `fit` >= 15
      ), FALSE)
      THEN 'C'
      WHEN COALESCE((
        TRUE
      ), FALSE)
      THEN 'D'
    END AS `grade`,
    CASE
      WHEN `total` >= CAST(90.0 AS DOUBLE)
      AND COALESCE((
        `fit` >= 30
      ), FALSE)
      AND COALESCE(
        (
          NOT `fired__personal_email`
          AND NOT `fired__competitor`
          AND NOT `fired__student_or_intern`
        ),
        FALSE
      )
      AND COALESCE((
        `ref__agg:count:intent:30.0` >= 1
      ), FALSE)
      AND COALESCE((
        `intent` + `content` > 0
      ), FALSE)
      THEN 'sales_ready'
      WHEN `total` >= CAST(60.0 AS DOUBLE)
      AND COALESCE((
        NOT `fired__competitor`
      ), FALSE)
      AND COALESCE((
        `intent` + `content` > 0
      ), FALSE)
      THEN 'mql'
      WHEN `total` >= CAST(30.0 AS DOUBLE)
      THEN 'engaged'
      WHEN `total` >= CAST(0.0 AS DOUBLE)
      THEN 'nurture'
    END AS `stage`,
    CASE
      WHEN `total` >= CAST(90.0 AS DOUBLE)
      AND COALESCE((
        `fit` >= 30
      ), FALSE)
      AND COALESCE(
        (
          NOT `fired__personal_email`
          AND NOT `fired__competitor`
          AND NOT `fired__student_or_intern`
        ),
        FALSE
      )
      AND COALESCE((
        `ref__agg:count:intent:30.0` >= 1
      ), FALSE)
      AND COALESCE((
        `intent` + `content` > 0
      ), FALSE)
      THEN 'Immediate SDR follow-up (call within 24h)'
      WHEN `total` >= CAST(60.0 AS DOUBLE)
      AND COALESCE((
        NOT `fired__competitor`
      ), FALSE)
      AND COALESCE((
        `intent` + `content` > 0
      ), FALSE)
      THEN 'SDR review and personalised outreach'
      WHEN `total` >= CAST(30.0 AS DOUBLE)
      THEN 'Educational nurture'
      WHEN `total` >= CAST(0.0 AS DOUBLE)
      THEN 'Low-touch nurture'
    END AS `next_action`,
    `pts__senior_title` AS `why:senior_title`,
    `pts__director_title` AS `why:director_title`,
    `pts__manager_title` AS `why:manager_title`,
    `pts__buying_function` AS `why:buying_function`,
    `pts__industry` AS `why:industry`,
    `pts__company_size` AS `why:company_size`,
    `pts__target_region` AS `why:target_region`,
    `pts__uses_crm` AS `why:uses_crm`,
    `pts__target_tier` AS `why:target_tier`,
    `fit` - `lraw__fit` AS `why:fit:cap`,
    `pts__annual_revenue` AS `why:annual_revenue`,
    `revenue` - `lraw__revenue` AS `why:revenue:cap`,
    `pts__email_open` AS `why:email_open`,
    `pts__email_click` AS `why:email_click`,
    `email` - `graw__email` AS `why:email:cap`,
    `pts__page_view` AS `why:page_view`,
    `pts__blog_visit` AS `why:blog_visit`,
    `pts__content_download` AS `why:content_download`,
    `pts__case_study_view` AS `why:case_study_view`,
    `pts__webinar_registered` AS `why:webinar_registered`,
    `pts__webinar_attended` AS `why:webinar_attended`,
    `content` - `graw__content` AS `why:content:cap`,
    `pts__third_party_intent` AS `why:third_party_intent`,
    `pts__pricing_page_view` AS `why:pricing_page_view`,
    `pts__pricing_url` AS `why:pricing_url`,
    `pts__free_trial_signup` AS `why:free_trial_signup`,
    `pts__contact_form` AS `why:contact_form`,
    `pts__demo_request` AS `why:demo_request`,
    `intent` - `graw__intent` AS `why:intent:cap`,
    `pts__personal_email` AS `why:personal_email`,
    `pts__student_or_intern` AS `why:student_or_intern`,
    `pts__competitor` AS `why:competitor`,
    `pts__malformed_email` AS `why:malformed_email`,
    `pts__duplicate_lead` AS `why:duplicate_lead`,
    `pts__unsubscribed` AS `why:unsubscribed`,
    `pts__bounced` AS `why:bounced`,
    `pts__inactive_90d` AS `why:inactive_90d`,
    `total` - `total__raw` AS `why:total:cap`
  FROM t
), k1 AS (
  SELECT
    *,
    ABS(`pts__annual_revenue`) AS `__key1_1`,
    ABS(`pts__bounced`) AS `__key1_2`,
    ABS(`pts__buying_function`) AS `__key1_3`,
    ABS(`pts__company_size`) AS `__key1_4`,
    ABS(`pts__competitor`) AS `__key1_5`,
    ABS(`content`) AS `__key1_6`,
    ABS(`pts__director_title`) AS `__key1_7`,
    ABS(`pts__duplicate_lead`) AS `__key1_8`,
    ABS(`email`) AS `__key1_9`,
    ABS(`pts__inactive_90d`) AS `__key1_10`,
    ABS(`pts__industry`) AS `__key1_11`,
    ABS(`intent`) AS `__key1_12`,
    ABS(`pts__malformed_email`) AS `__key1_13`,
    ABS(`pts__manager_title`) AS `__key1_14`,
    ABS(`pts__personal_email`) AS `__key1_15`,
    ABS(`pts__senior_title`) AS `__key1_16`,
    ABS(`pts__student_or_intern`) AS `__key1_17`,
    ABS(`pts__target_region`) AS `__key1_18`,
    ABS(`pts__target_tier`) AS `__key1_19`,
    ABS(`pts__third_party_intent`) AS `__key1_20`,
    ABS(`pts__unsubscribed`) AS `__key1_21`,
    ABS(`pts__uses_crm`) AS `__key1_22`
  FROM o0
), b1 AS (
  SELECT
    *,
    GREATEST(
      `__key1_1`,
      `__key1_2`,
      `__key1_3`,
      `__key1_4`,
      `__key1_5`,
      `__key1_6`,
      `__key1_7`,
      `__key1_8`,
      `__key1_9`,
      `__key1_10`,
      `__key1_11`,
      `__key1_12`,
      `__key1_13`,
      `__key1_14`,
      `__key1_15`,
      `__key1_16`,
      `__key1_17`,
      `__key1_18`,
      `__key1_19`,
      `__key1_20`,
      `__key1_21`,
      `__key1_22`
    ) AS `__best1`
  FROM k1
), p1 AS (
  SELECT
    *,
    CASE
      WHEN `__best1` > CAST(0.0 AS DOUBLE)
      THEN CASE
        WHEN `__key1_1` = `__best1`
        THEN 1
        WHEN `__key1_2` = `__best1`
        THEN 2
        WHEN `__key1_3` = `__best1`
        THEN 3
        WHEN `__key1_4` = `__best1`
        THEN 4
        WHEN `__key1_5` = `__best1`
        THEN 5
        WHEN `__key1_6` = `__best1`
        THEN 6
        WHEN `__key1_7` = `__best1`
        THEN 7
        WHEN `__key1_8` = `__best1`
        THEN 8
        WHEN `__key1_9` = `__best1`
        THEN 9
        WHEN `__key1_10` = `__best1`
        THEN 10
        WHEN `__key1_11` = `__best1`
        THEN 11
        WHEN `__key1_12` = `__best1`
        THEN 12
        WHEN `__key1_13` = `__best1`
        THEN 13
        WHEN `__key1_14` = `__best1`
        THEN 14
        WHEN `__key1_15` = `__best1`
        THEN 15
        WHEN `__key1_16` = `__best1`
        THEN 16
        WHEN `__key1_17` = `__best1`
        THEN 17
        WHEN `__key1_18` = `__best1`
        THEN 18
        WHEN `__key1_19` = `__best1`
        THEN 19
        WHEN `__key1_20` = `__best1`
        THEN 20
        WHEN `__key1_21` = `__best1`
        THEN 21
        WHEN `__key1_22` = `__best1`
        THEN 22
      END
    END AS `__pick1`
  FROM b1
), k2 AS (
  SELECT
    *,
    CASE
      WHEN COALESCE((
        1 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__annual_revenue`)
    END AS `__key2_1`,
    CASE
      WHEN COALESCE((
        2 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__bounced`)
    END AS `__key2_2`,
    CASE
      WHEN COALESCE((
        3 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__buying_function`)
    END AS `__key2_3`,
    CASE
      WHEN COALESCE((
        4 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__company_size`)
    END AS `__key2_4`,
    CASE
      WHEN COALESCE((
        5 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__competitor`)
    END AS `__key2_5`,
    CASE
      WHEN COALESCE((
        6 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`content`)
    END AS `__key2_6`,
    CASE
      WHEN COALESCE((
        7 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__director_title`)
    END AS `__key2_7`,
    CASE
      WHEN COALESCE((
        8 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__duplicate_lead`)
    END AS `__key2_8`,
    CASE
      WHEN COALESCE((
        9 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`email`)
    END AS `__key2_9`,
    CASE
      WHEN COALESCE((
        10 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__inactive_90d`)
    END AS `__key2_10`,
    CASE
      WHEN COALESCE((
        11 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__industry`)
    END AS `__key2_11`,
    CASE
      WHEN COALESCE((
        12 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`intent`)
    END AS `__key2_12`,
    CASE
      WHEN COALESCE((
        13 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__malformed_email`)
    END AS `__key2_13`,
    CASE
      WHEN COALESCE((
        14 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__manager_title`)
    END AS `__key2_14`,
    CASE
      WHEN COALESCE((
        15 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__personal_email`)
    END AS `__key2_15`,
    CASE
      WHEN COALESCE((
        16 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__senior_title`)
    END AS `__key2_16`,
    CASE
      WHEN COALESCE((
        17 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__student_or_intern`)
    END AS `__key2_17`,
    CASE
      WHEN COALESCE((
        18 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__target_region`)
    END AS `__key2_18`,
    CASE
      WHEN COALESCE((
        19 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__target_tier`)
    END AS `__key2_19`,
    CASE
      WHEN COALESCE((
        20 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__third_party_intent`)
    END AS `__key2_20`,
    CASE
      WHEN COALESCE((
        21 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__unsubscribed`)
    END AS `__key2_21`,
    CASE
      WHEN COALESCE((
        22 IN (`__pick1`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__uses_crm`)
    END AS `__key2_22`
  FROM p1
), b2 AS (
  SELECT
    *,
    GREATEST(
      `__key2_1`,
      `__key2_2`,
      `__key2_3`,
      `__key2_4`,
      `__key2_5`,
      `__key2_6`,
      `__key2_7`,
      `__key2_8`,
      `__key2_9`,
      `__key2_10`,
      `__key2_11`,
      `__key2_12`,
      `__key2_13`,
      `__key2_14`,
      `__key2_15`,
      `__key2_16`,
      `__key2_17`,
      `__key2_18`,
      `__key2_19`,
      `__key2_20`,
      `__key2_21`,
      `__key2_22`
    ) AS `__best2`
  FROM k2
), p2 AS (
  SELECT
    *,
    CASE
      WHEN `__best2` > CAST(0.0 AS DOUBLE)
      THEN CASE
        WHEN `__key2_1` = `__best2`
        THEN 1
        WHEN `__key2_2` = `__best2`
        THEN 2
        WHEN `__key2_3` = `__best2`
        THEN 3
        WHEN `__key2_4` = `__best2`
        THEN 4
        WHEN `__key2_5` = `__best2`
        THEN 5
        WHEN `__key2_6` = `__best2`
        THEN 6
        WHEN `__key2_7` = `__best2`
        THEN 7
        WHEN `__key2_8` = `__best2`
        THEN 8
        WHEN `__key2_9` = `__best2`
        THEN 9
        WHEN `__key2_10` = `__best2`
        THEN 10
        WHEN `__key2_11` = `__best2`
        THEN 11
        WHEN `__key2_12` = `__best2`
        THEN 12
        WHEN `__key2_13` = `__best2`
        THEN 13
        WHEN `__key2_14` = `__best2`
        THEN 14
        WHEN `__key2_15` = `__best2`
        THEN 15
        WHEN `__key2_16` = `__best2`
        THEN 16
        WHEN `__key2_17` = `__best2`
        THEN 17
        WHEN `__key2_18` = `__best2`
        THEN 18
        WHEN `__key2_19` = `__best2`
        THEN 19
        WHEN `__key2_20` = `__best2`
        THEN 20
        WHEN `__key2_21` = `__best2`
        THEN 21
        WHEN `__key2_22` = `__best2`
        THEN 22
      END
    END AS `__pick2`
  FROM b2
), k3 AS (
  SELECT
    *,
    CASE
      WHEN COALESCE((
        1 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__annual_revenue`)
    END AS `__key3_1`,
    CASE
      WHEN COALESCE((
        2 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__bounced`)
    END AS `__key3_2`,
    CASE
      WHEN COALESCE((
        3 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__buying_function`)
    END AS `__key3_3`,
    CASE
      WHEN COALESCE((
        4 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__company_size`)
    END AS `__key3_4`,
    CASE
      WHEN COALESCE((
        5 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__competitor`)
    END AS `__key3_5`,
    CASE
      WHEN COALESCE((
        6 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`content`)
    END AS `__key3_6`,
    CASE
      WHEN COALESCE((
        7 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__director_title`)
    END AS `__key3_7`,
    CASE
      WHEN COALESCE((
        8 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__duplicate_lead`)
    END AS `__key3_8`,
    CASE
      WHEN COALESCE((
        9 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`email`)
    END AS `__key3_9`,
    CASE
      WHEN COALESCE((
        10 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__inactive_90d`)
    END AS `__key3_10`,
    CASE
      WHEN COALESCE((
        11 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__industry`)
    END AS `__key3_11`,
    CASE
      WHEN COALESCE((
        12 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`intent`)
    END AS `__key3_12`,
    CASE
      WHEN COALESCE((
        13 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__malformed_email`)
    END AS `__key3_13`,
    CASE
      WHEN COALESCE((
        14 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__manager_title`)
    END AS `__key3_14`,
    CASE
      WHEN COALESCE((
        15 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__personal_email`)
    END AS `__key3_15`,
    CASE
      WHEN COALESCE((
        16 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__senior_title`)
    END AS `__key3_16`,
    CASE
      WHEN COALESCE((
        17 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__student_or_intern`)
    END AS `__key3_17`,
    CASE
      WHEN COALESCE((
        18 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__target_region`)
    END AS `__key3_18`,
    CASE
      WHEN COALESCE((
        19 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__target_tier`)
    END AS `__key3_19`,
    CASE
      WHEN COALESCE((
        20 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__third_party_intent`)
    END AS `__key3_20`,
    CASE
      WHEN COALESCE((
        21 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__unsubscribed`)
    END AS `__key3_21`,
    CASE
      WHEN COALESCE((
        22 IN (`__pick1`, `__pick2`)
      ), FALSE)
      THEN CAST(-1.0 AS DOUBLE)
      ELSE ABS(`pts__uses_crm`)
    END AS `__key3_22`
  FROM p2
), b3 AS (
  SELECT
    *,
    GREATEST(
      `__key3_1`,
      `__key3_2`,
      `__key3_3`,
      `__key3_4`,
      `__key3_5`,
      `__key3_6`,
      `__key3_7`,
      `__key3_8`,
      `__key3_9`,
      `__key3_10`,
      `__key3_11`,
      `__key3_12`,
      `__key3_13`,
      `__key3_14`,
      `__key3_15`,
      `__key3_16`,
      `__key3_17`,
      `__key3_18`,
      `__key3_19`,
      `__key3_20`,
      `__key3_21`,
      `__key3_22`
    ) AS `__best3`
  FROM k3
), p3 AS (
  SELECT
    *,
    CASE
      WHEN `__best3` > CAST(0.0 AS DOUBLE)
      THEN CASE
        WHEN `__key3_1` = `__best3`
        THEN 1
        WHEN `__key3_2` = `__best3`
        THEN 2
        WHEN `__key3_3` = `__best3`
        THEN 3
        WHEN `__key3_4` = `__best3`
        THEN 4
        WHEN `__key3_5` = `__best3`
        THEN 5
        WHEN `__key3_6` = `__best3`
        THEN 6
        WHEN `__key3_7` = `__best3`
        THEN 7
        WHEN `__key3_8` = `__best3`
        THEN 8
        WHEN `__key3_9` = `__best3`
        THEN 9
        WHEN `__key3_10` = `__best3`
        THEN 10
        WHEN `__key3_11` = `__best3`
        THEN 11
        WHEN `__key3_12` = `__best3`
        THEN 12
        WHEN `__key3_13` = `__best3`
        THEN 13
        WHEN `__key3_14` = `__best3`
        THEN 14
        WHEN `__key3_15` = `__best3`
        THEN 15
        WHEN `__key3_16` = `__best3`
        THEN 16
        WHEN `__key3_17` = `__best3`
        THEN 17
        WHEN `__key3_18` = `__best3`
        THEN 18
        WHEN `__key3_19` = `__best3`
        THEN 19
        WHEN `__key3_20` = `__best3`
        THEN 20
        WHEN `__key3_21` = `__best3`
        THEN 21
        WHEN `__key3_22` = `__best3`
        THEN 22
      END
    END AS `__pick3`
  FROM b3
), o AS (
  SELECT
    *
  FROM p3
)
SELECT
  `lead_id`,
  `account_id`,
  NULL AS `segment`,
  `fit`,
  `revenue`,
  `engagement`,
  `readiness`,
  `negative`,
  `email`,
  `content`,
  `intent`,
  `total`,
  `grade`,
  `stage`,
  `next_action`,
  CASE `__pick1`
    WHEN 1
    THEN 'annual_revenue'
    WHEN 2
    THEN 'bounced'
    WHEN 3
    THEN 'buying_function'
    WHEN 4
    THEN 'company_size'
    WHEN 5
    THEN 'competitor'
    WHEN 6
    THEN 'content'
    WHEN 7
    THEN 'director_title'
    WHEN 8
    THEN 'duplicate_lead'
    WHEN 9
    THEN 'email'
    WHEN 10
    THEN 'inactive_90d'
    WHEN 11
    THEN 'industry'
    WHEN 12
    THEN 'intent'
    WHEN 13
    THEN 'malformed_email'
    WHEN 14
    THEN 'manager_title'
    WHEN 15
    THEN 'personal_email'
    WHEN 16
    THEN 'senior_title'
    WHEN 17
    THEN 'student_or_intern'
    WHEN 18
    THEN 'target_region'
    WHEN 19
    THEN 'target_tier'
    WHEN 20
    THEN 'third_party_intent'
    WHEN 21
    THEN 'unsubscribed'
    WHEN 22
    THEN 'uses_crm'
  END AS `reason1`,
  CASE `__pick1`
    WHEN 1
    THEN `pts__annual_revenue`
    WHEN 2
    THEN `pts__bounced`
    WHEN 3
    THEN `pts__buying_function`
    WHEN 4
    THEN `pts__company_size`
    WHEN 5
    THEN `pts__competitor`
    WHEN 6
    THEN `content`
    WHEN 7
    THEN `pts__director_title`
    WHEN 8
    THEN `pts__duplicate_lead`
    WHEN 9
    THEN `email`
    WHEN 10
    THEN `pts__inactive_90d`
    WHEN 11
    THEN `pts__industry`
    WHEN 12
    THEN `intent`
    WHEN 13
    THEN `pts__malformed_email`
    WHEN 14
    THEN `pts__manager_title`
    WHEN 15
    THEN `pts__personal_email`
    WHEN 16
    THEN `pts__senior_title`
    WHEN 17
    THEN `pts__student_or_intern`
    WHEN 18
    THEN `pts__target_region`
    WHEN 19
    THEN `pts__target_tier`
    WHEN 20
    THEN `pts__third_party_intent`
    WHEN 21
    THEN `pts__unsubscribed`
    WHEN 22
    THEN `pts__uses_crm`
  END AS `points1`,
  CASE `__pick2`
    WHEN 1
    THEN 'annual_revenue'
    WHEN 2
    THEN 'bounced'
    WHEN 3
    THEN 'buying_function'
    WHEN 4
    THEN 'company_size'
    WHEN 5
    THEN 'competitor'
    WHEN 6
    THEN 'content'
    WHEN 7
    THEN 'director_title'
    WHEN 8
    THEN 'duplicate_lead'
    WHEN 9
    THEN 'email'
    WHEN 10
    THEN 'inactive_90d'
    WHEN 11
    THEN 'industry'
    WHEN 12
    THEN 'intent'
    WHEN 13
    THEN 'malformed_email'
    WHEN 14
    THEN 'manager_title'
    WHEN 15
    THEN 'personal_email'
    WHEN 16
    THEN 'senior_title'
    WHEN 17
    THEN 'student_or_intern'
    WHEN 18
    THEN 'target_region'
    WHEN 19
    THEN 'target_tier'
    WHEN 20
    THEN 'third_party_intent'
    WHEN 21
    THEN 'unsubscribed'
    WHEN 22
    THEN 'uses_crm'
  END AS `reason2`,
  CASE `__pick2`
    WHEN 1
    THEN `pts__annual_revenue`
    WHEN 2
    THEN `pts__bounced`
    WHEN 3
    THEN `pts__buying_function`
    WHEN 4
    THEN `pts__company_size`
    WHEN 5
    THEN `pts__competitor`
    WHEN 6
    THEN `content`
    WHEN 7
    THEN `pts__director_title`
    WHEN 8
    THEN `pts__duplicate_lead`
    WHEN 9
    THEN `email`
    WHEN 10
    THEN `pts__inactive_90d`
    WHEN 11
    THEN `pts__industry`
    WHEN 12
    THEN `intent`
    WHEN 13
    THEN `pts__malformed_email`
    WHEN 14
    THEN `pts__manager_title`
    WHEN 15
    THEN `pts__personal_email`
    WHEN 16
    THEN `pts__senior_title`
    WHEN 17
    THEN `pts__student_or_intern`
    WHEN 18
    THEN `pts__target_region`
    WHEN 19
    THEN `pts__target_tier`
    WHEN 20
    THEN `pts__third_party_intent`
    WHEN 21
    THEN `pts__unsubscribed`
    WHEN 22
    THEN `pts__uses_crm`
  END AS `points2`,
  CASE `__pick3`
    WHEN 1
    THEN 'annual_revenue'
    WHEN 2
    THEN 'bounced'
    WHEN 3
    THEN 'buying_function'
    WHEN 4
    THEN 'company_size'
    WHEN 5
    THEN 'competitor'
    WHEN 6
    THEN 'content'
    WHEN 7
    THEN 'director_title'
    WHEN 8
    THEN 'duplicate_lead'
    WHEN 9
    THEN 'email'
    WHEN 10
    THEN 'inactive_90d'
    WHEN 11
    THEN 'industry'
    WHEN 12
    THEN 'intent'
    WHEN 13
    THEN 'malformed_email'
    WHEN 14
    THEN 'manager_title'
    WHEN 15
    THEN 'personal_email'
    WHEN 16
    THEN 'senior_title'
    WHEN 17
    THEN 'student_or_intern'
    WHEN 18
    THEN 'target_region'
    WHEN 19
    THEN 'target_tier'
    WHEN 20
    THEN 'third_party_intent'
    WHEN 21
    THEN 'unsubscribed'
    WHEN 22
    THEN 'uses_crm'
  END AS `reason3`,
  CASE `__pick3`
    WHEN 1
    THEN `pts__annual_revenue`
    WHEN 2
    THEN `pts__bounced`
    WHEN 3
    THEN `pts__buying_function`
    WHEN 4
    THEN `pts__company_size`
    WHEN 5
    THEN `pts__competitor`
    WHEN 6
    THEN `content`
    WHEN 7
    THEN `pts__director_title`
    WHEN 8
    THEN `pts__duplicate_lead`
    WHEN 9
    THEN `email`
    WHEN 10
    THEN `pts__inactive_90d`
    WHEN 11
    THEN `pts__industry`
    WHEN 12
    THEN `intent`
    WHEN 13
    THEN `pts__malformed_email`
    WHEN 14
    THEN `pts__manager_title`
    WHEN 15
    THEN `pts__personal_email`
    WHEN 16
    THEN `pts__senior_title`
    WHEN 17
    THEN `pts__student_or_intern`
    WHEN 18
    THEN `pts__target_region`
    WHEN 19
    THEN `pts__target_tier`
    WHEN 20
    THEN `pts__third_party_intent`
    WHEN 21
    THEN `pts__unsubscribed`
    WHEN 22
    THEN `pts__uses_crm`
  END AS `points3`,
  `last_activity_at`,
  `last_activity_type`,
  `committee_role`,
  `why:senior_title`,
  `why:director_title`,
  `why:manager_title`,
  `why:buying_function`,
  `why:industry`,
  `why:company_size`,
  `why:target_region`,
  `why:uses_crm`,
  `why:target_tier`,
  `why:fit:cap`,
  `why:annual_revenue`,
  `why:revenue:cap`,
  `why:email_open`,
  `why:email_click`,
  `why:email:cap`,
  `why:page_view`,
  `why:blog_visit`,
  `why:content_download`,
  `why:case_study_view`,
  `why:webinar_registered`,
  `why:webinar_attended`,
  `why:content:cap`,
  `why:third_party_intent`,
  `why:pricing_page_view`,
  `why:pricing_url`,
  `why:free_trial_signup`,
  `why:contact_form`,
  `why:demo_request`,
  `why:intent:cap`,
  `why:personal_email`,
  `why:student_or_intern`,
  `why:competitor`,
  `why:malformed_email`,
  `why:duplicate_lead`,
  `why:unsubscribed`,
  `why:bounced`,
  `why:inactive_90d`,
  `why:total:cap`
FROM o;

-- leadscore model 'b2b-saas' (9d7526f68a775c2b), spark, as of 2026-06-30 00:00:00
-- account_scores: one row per account, from lead_scores
WITH ranked AS (
  SELECT
    `account_id`,
    `lead_id`,
    `total`,
    `committee_role` AS `committee_role`,
    ROW_NUMBER() OVER (PARTITION BY `account_id` ORDER BY `total` DESC, `lead_id` NULLS LAST) AS `rk`
  FROM lead_scores
  WHERE
    NOT `account_id` IS NULL
), agg AS (
  SELECT
    `account_id`,
    COUNT(*) AS `lead_count`,
    COALESCE(SUM(`total`) FILTER(WHERE
      `rk` <= 3), CAST(0.0 AS DOUBLE)) AS `top_leads_sum`,
    COUNT(*) FILTER(WHERE
      `total` >= CAST(30.0 AS DOUBLE)) AS `engaged_leads`,
    COUNT(*) FILTER(WHERE
      `rk` > 3 AND `total` >= CAST(30.0 AS DOUBLE)) AS `engaged_beyond_top`,
    TRANSFORM(
      ARRAY_SORT(COLLECT_LIST(STRUCT(`rk` AS k, `lead_id` AS v)) FILTER(WHERE
        `rk` <= 3)),
      p -> p.v
    ) AS `top_leads`,
    CASE
      WHEN SIZE(
        ARRAY_SORT(
          COLLECT_LIST(DISTINCT `committee_role`) FILTER(WHERE
            `total` >= CAST(30.0 AS DOUBLE) AND NOT `committee_role` IS NULL)
        )
      ) > 0
      THEN ARRAY_SORT(
        COLLECT_LIST(DISTINCT `committee_role`) FILTER(WHERE
          `total` >= CAST(30.0 AS DOUBLE) AND NOT `committee_role` IS NULL)
      )
    END AS `committee_roles`
  FROM ranked
  GROUP BY
    `account_id`
), parts AS (
  SELECT
    g.*,
    CAST(`engaged_beyond_top` AS DOUBLE) * CAST(10.0 AS DOUBLE) AS `pts__engaged_beyond_top`,
    CASE
      WHEN COALESCE((
        `a`.`intent_score` > 0
      ), FALSE)
      THEN COALESCE(CAST(`a`.`intent_score` / 10 AS DOUBLE), CAST(0.0 AS DOUBLE))
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__third_party_intent`,
    CASE LOWER(CAST(`a`.`target_tier` AS STRING))
      WHEN 'tier_1'
      THEN CAST(30.0 AS DOUBLE)
      WHEN 'tier_2'
      THEN CAST(20.0 AS DOUBLE)
      WHEN 'tier_3'
      THEN CAST(10.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS `pts__target_tier`
  FROM agg AS g
  INNER JOIN accounts AS a
    ON `g`.`account_id` = `a`.`account_id`
), scored AS (
  SELECT
    *,
    (
      `top_leads_sum` + `pts__engaged_beyond_top` + `pts__third_party_intent` + `pts__target_tier`
    ) AS `score__raw`
  FROM parts
)
SELECT
  `s`.`account_id`,
  `score__raw` AS `account_score`,
  `engaged_leads`,
  `lead_count`,
  `top_leads`,
  `committee_roles`,
  COALESCE(SIZE(`committee_roles`), 0) AS `committee_coverage`,
  4 AS `committee_roles_defined`,
  FILTER(
    ARRAY(
      STRUCT('top_leads_sum' AS rule, `top_leads_sum` AS points),
      STRUCT('engaged_beyond_top' AS rule, `pts__engaged_beyond_top` AS points),
      STRUCT('third_party_intent' AS rule, `pts__third_party_intent` AS points),
      STRUCT('target_tier' AS rule, `pts__target_tier` AS points)
    ),
    x -> x.points <> 0
  ) AS `reasons`
FROM scored AS s;
