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
}

impl Limits {
    pub const OFF: Limits = Limits {
        login_per_ip: Rule::OFF,
        signup_per_ip: Rule::OFF,
        lockout: Rule::OFF,
        refresh_per_account: Rule::OFF,
        password_change_per_account: Rule::OFF,
    };
}
