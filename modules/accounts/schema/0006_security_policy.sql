-- The login-security policy admins set at run time (settings.mfa_device): one row, a JSON
-- object of the sections they set (mfa, device_limits, lockout, new_login_alerts); the
-- config's values apply to what it leaves out.
CREATE TABLE jwwx_acc_security_policy (
    id INTEGER NOT NULL PRIMARY KEY,
    policy TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_ts BIGINT NOT NULL
);
