//! Every mail text the server sends, in one place.
use crate::domain::email_codes::purpose::Purpose;
use crate::domain::outbox::enqueue_notice;
use crate::domain::services::Services;
use crate::domain::users::model::User;
use crate::mail::Mail;

/// The mail that carries a code for `purpose` (link, six digits and token).
pub fn code(public_url: &str, to: &str, token: &str, code: &str, purpose: Purpose) -> Mail {
    let minutes = purpose.ttl_secs() / 60;
    let (subject, why, path, action, otherwise) = match purpose {
        Purpose::PasswordReset => (
            "Reset your password",
            "Someone (hopefully you) asked to reset the password of this account.",
            "reset-password",
            "Choose a new password here:",
            "ignore this message: your password stays as it is.",
        ),
        Purpose::Verification => (
            "Confirm your email address",
            "Please confirm that this address belongs to your account.",
            "verify-email",
            "Confirm it here:",
            "ignore this message.",
        ),
        Purpose::LogIn => (
            "Your sign-in code",
            "Someone (hopefully you) asked to sign in to this account with a code.",
            "sign-in",
            "Sign in here:",
            "ignore this message: nobody can sign in without the code.",
        ),
        Purpose::SecondFactor => (
            "Your sign-in confirmation code",
            "Someone (hopefully you) signed in to this account with its password.",
            "sign-in",
            "Confirm the sign-in here:",
            "change your password: someone else knows it.",
        ),
        Purpose::EmailChange => (
            "Confirm your new email address",
            "Someone (hopefully you) asked to move an account to this address.",
            "confirm-email-change",
            "Confirm it here:",
            "ignore this message: nothing changes.",
        ),
    };
    let link = match public_url.trim_end_matches('/') {
        "" => String::new(),
        base => format!("{action}\n{base}/{path}?token={token}\n\n"),
    };
    // Short lines: the message stays plain 7-bit text.
    Mail {
        to: to.to_owned(),
        subject: subject.into(),
        body: format!(
            "{why}\n\n\
             {link}Your code: {code}\n\n\
             Token, for apps that ask for it:\n{token}\n\n\
             Both work once, within {minutes} minutes. If you did not ask for this,\n\
             {otherwise}\n"
        ),
    }
}

/// Tells a user that its password changed (when the server sends mail), so
/// a change it did not make does not go unnoticed.
pub async fn password_changed(svc: &Services, user: &User) {
    let mail = Mail {
        to: user.email.clone(),
        subject: "Your password was changed".into(),
        body: "The password of your account was just changed, and the sessions\n\
               signed in with the old one were ended.\n\n\
               If you did not do this, reset your password now and contact the\n\
               service's support.\n"
            .into(),
    };
    enqueue_notice(svc, mail).await;
}

/// Tells the old address that the account moved to another one.
pub async fn email_changed(svc: &Services, old_address: &str, user: &User) {
    let mail = Mail {
        to: old_address.to_owned(),
        subject: "Your email address was changed".into(),
        body: format!(
            "The email address of your account was changed to {}.\n\n\
             If you did not do this, contact the service's support at once.\n",
            user.email
        ),
    };
    enqueue_notice(svc, mail).await;
}

/// Tells a user that a change to its second factors happened (enabled,
/// disabled, reset by an administrator, a recovery code used).
pub async fn second_factor_changed(svc: &Services, user: &User, what: &str) {
    let mail = Mail {
        to: user.email.clone(),
        subject: "Your sign-in security changed".into(),
        body: format!(
            "{what}\n\n\
             If you did not do this, reset your password now and contact the\n\
             service's support.\n"
        ),
    };
    enqueue_notice(svc, mail).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_mail_states_the_real_expiry_of_its_code() {
        let mail = |p| code("", "a@example.com", "tok", "123456", p).body;
        assert!(mail(Purpose::SecondFactor).contains("within 5 minutes"));
        assert!(mail(Purpose::PasswordReset).contains("within 30 minutes"));
        assert!(mail(Purpose::LogIn).contains("within 30 minutes"));
    }
}
