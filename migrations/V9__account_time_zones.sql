-- One time zone per person. A researcher who picked a zone when
-- registering through an invitation had it stored on the profile only, so
-- the account (its pages and e-mails) stayed without one. Such accounts
-- take their profile's zone. From now on the two are set together, and
-- every new account gets one at registration (UTC when none is picked).
UPDATE users
   SET timezone = (SELECT r.timezone FROM researchers r
                    WHERE r.user_id = users.id AND r.timezone IS NOT NULL
                    ORDER BY r.id LIMIT 1)
 WHERE timezone IS NULL
   AND EXISTS (SELECT 1 FROM researchers r
                WHERE r.user_id = users.id AND r.timezone IS NOT NULL);
