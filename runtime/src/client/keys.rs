//! Store keys: every key dingscope keeps in a [`Store`](super::Store), formatted here and
//! nowhere else.
//!
//! A key is `dingscope:` and its kind, then the ids it belongs to, each escaped (`%` as
//! `%25`, `:` as `%3A`) so that an id holding a `:` can never be read as two ids.

use std::borrow::Cow;

use super::principal::Who;

/// `id` with `%` and `:` escaped.
fn escape(id: &str) -> Cow<'_, str> {
    if id.contains(['%', ':']) {
        Cow::Owned(id.replace('%', "%25").replace(':', "%3A"))
    } else {
        Cow::Borrowed(id)
    }
}

/// The app, corp and user of `who`, escaped and joined.
fn principal(app: &str, who: &Who) -> String {
    match who {
        Who::Corp(corp) => format!("{}:{}", escape(app), escape(corp)),
        Who::User { corp, user } => {
            format!("{}:{}:{}", escape(app), escape(corp), escape(user))
        }
    }
}

/// The app's latest suite ticket.
pub(crate) fn ticket(app: &str) -> String {
    format!("dingscope:ticket:{}", escape(app))
}

/// What `who` has granted the app.
pub(crate) fn grant(app: &str, who: &Who) -> String {
    format!("dingscope:grant:{}", principal(app, who))
}

/// A user's refresh token.
pub(crate) fn refresh(app: &str, who: &Who) -> String {
    format!("dingscope:refresh:{}", principal(app, who))
}

/// The token cache's id for `who`'s access token: also the suffix of its store key and
/// of its refresh lock's.
pub(crate) fn token_id(app: &str, who: &Who) -> String {
    format!("{}:{}", principal(app, who), who.auth_type().as_str())
}

/// The shared access token of the token id `id`.
pub(crate) fn token(id: &str) -> String {
    format!("dingscope:token:{id}")
}

/// The cross-instance refresh lock of the token id `id`.
pub(crate) fn lock(id: &str) -> String {
    format!("dingscope:lock:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(corp: &str, user: &str) -> Who {
        Who::User {
            corp: corp.into(),
            user: user.into(),
        }
    }

    #[test]
    fn ids_with_separators_do_not_collide() {
        // Corp `dingA:user1` is not user `user1` of corp `dingA`.
        assert_ne!(
            grant("app", &Who::Corp("dingA:user1".into())),
            grant("app", &user("dingA", "user1"))
        );
        assert_ne!(
            token_id("app", &user("a:b", "c")),
            token_id("app", &user("a", "b:c"))
        );
        assert_ne!(ticket("a%3Ab"), ticket("a:b"));
        assert_eq!(
            grant("app", &Who::Corp("ding1".into())),
            "dingscope:grant:app:ding1"
        );
    }
}
