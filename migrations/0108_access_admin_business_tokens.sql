-- 三员分立 (DOMAIN.md section 6): an API token of a role that reaches personal data belongs to the
-- business user who created it for himself, never to an administrator, who would otherwise hold a
-- working business credential (a county approver's read, reveal and unmasked export). Such tokens
-- that an administrator created before this rule are revoked here; the server refuses them anyway
-- (access.service.ts tokenOwner), this makes the token list say so and stops an import of theirs
-- still queued. Tokens an administrator may still issue: a viewer without individual access and a
-- service provider (no personal data). Console tokens (created_by NULL) are not touched.
UPDATE api_tokens
SET revoked_at = now()
WHERE revoked_at IS NULL
  AND created_by IN (
    SELECT id FROM users WHERE role IN ('system_admin', 'security_admin', 'audit_admin')
  )
  AND (
    role NOT IN ('prefecture_viewer', 'province_viewer', 'national_viewer', 'service_provider')
    OR individual_access
  );
