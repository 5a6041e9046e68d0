//! The limits a server enforces (from configuration).

/// At most `max` hits per `window_secs`; `max == 0` disables the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub max: u64,
    pub window_secs: u64,
}

impl Rule {
    pub const OFF: Rule = Rule {
        max: 0,
        window_secs: 0,
    };
}

/// The rules a server enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub login_per_ip: Rule,
    pub signup_per_ip: Rule,
    /// Failed log-ins per identifier before it is locked for the window.
    pub lockout: Rule,
    /// Refresh-token exchanges per account.
    pub refresh_per_account: Rule,
    /// Password changes (attempts) per account.
    pub password_change_per_account: Rule,
    /// Refresh-token exchanges per client address.
    pub refresh_per_ip: Rule,
    /// Password changes (attempts) per client address.
    pub password_change_per_ip: Rule,
    /// Requests and confirmations of mailed codes per client address.
    pub mail_code_per_ip: Rule,
    /// Mailed codes per account and purpose (more are silently not sent).
    pub mail_code_per_account: Rule,
    /// Second-factor and one-time-code verifications per account.
    pub mfa_per_account: Rule,
    /// Second-factor and one-time-code verifications per client address.
    pub mfa_per_ip: Rule,
}

impl Limits {
    pub const OFF: Limits = Limits {
        login_per_ip: Rule::OFF,
        signup_per_ip: Rule::OFF,
        lockout: Rule::OFF,
        refresh_per_account: Rule::OFF,
        password_change_per_account: Rule::OFF,
        refresh_per_ip: Rule::OFF,
        password_change_per_ip: Rule::OFF,
        mail_code_per_ip: Rule::OFF,
        mail_code_per_account: Rule::OFF,
        mfa_per_account: Rule::OFF,
        mfa_per_ip: Rule::OFF,
    };
}
