//! What an audit event records, by stable snake_case names.

macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $($(#[$doc:meta])* $variant:ident = $key:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable name stored and shown.
            pub fn key(self) -> &'static str {
                match self {
                    $($name::$variant => $key,)*
                }
            }

            /// The value of a stable name.
            pub fn parse(key: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|k| k.key() == key)
            }
        }
    };
}

names! {
    /// The kind of an audit event.
    Kind {
        /// A new account signed up (by password, OAuth2 or an import-less create).
        SignUp = "sign_up",
        /// A log-in: success, failure (wrong or unknown credentials) or locked.
        LogIn = "log_in",
        /// A second-factor challenge answered (success or failure).
        SecondFactor = "second_factor",
        /// The caller ended its session (or all of them).
        LogOut = "log_out",
        /// A session ended by its user or an administrator.
        SessionRevoked = "session_revoked",
        /// A rotated refresh token came back: the session was revoked.
        RefreshTokenReused = "refresh_token_reused",
        /// The user changed its password.
        PasswordChanged = "password_changed",
        /// A password-reset code was mailed.
        PasswordResetRequested = "password_reset_requested",
        /// A password was reset by a mailed code.
        PasswordReset = "password_reset",
        /// A code to move to a new email was mailed.
        EmailChangeRequested = "email_change_requested",
        /// The account moved to a new, proven email.
        EmailChanged = "email_changed",
        /// A verification code was mailed.
        VerificationRequested = "verification_requested",
        /// The email was verified.
        EmailVerified = "email_verified",
        /// A second factor was turned on (`factor`: totp, email).
        FactorAdded = "factor_added",
        /// A second factor was turned off (`factor`: totp, email, all).
        FactorRemoved = "factor_removed",
        /// New recovery codes replaced the old ones.
        RecoveryCodesRegenerated = "recovery_codes_regenerated",
        /// A passkey was registered.
        PasskeyAdded = "passkey_added",
        /// A passkey was removed.
        PasskeyRemoved = "passkey_removed",
        /// A passkey was renamed.
        PasskeyRenamed = "passkey_renamed",
        /// An OAuth2 identity was linked to the account.
        OauthLinked = "oauth_linked",
        /// An OAuth2 identity was unlinked.
        OauthUnlinked = "oauth_unlinked",
        /// An administrator created the user.
        UserCreated = "user_created",
        /// An administrator changed the user's profile.
        UserUpdated = "user_updated",
        /// The user was deleted (by itself or an administrator).
        UserDeleted = "user_deleted",
        /// An administrator set the user's password.
        PasswordSet = "password_set",
        /// An administrator disabled the user.
        UserDisabled = "user_disabled",
        /// An administrator enabled the user.
        UserEnabled = "user_enabled",
        /// The token signing key was rotated (no project).
        SigningKeyRotated = "signing_key_rotated",
    }
}

names! {
    /// How an audited attempt ended.
    Outcome {
        Success = "success",
        Failure = "failure",
        /// Refused before the credentials were checked (lockout or rate limit).
        Locked = "locked",
    }
}
