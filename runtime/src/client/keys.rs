//! Store keys: every key dingscope keeps in a [`Store`](super::Store), formatted here and
//! nowhere else.
//!
//! A key is the configured prefix (none by default), `dingscope:` and its kind, then the
//! ids it belongs to, each escaped (`%` as `%25`, `:` as `%3A`) so that an id holding a
//! `:` can never be read as two ids.

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

/// The keys of one deployment: every key starts with its prefix, so that several share
/// one store and an access rule (a Redis ACL's `~prefix*`) can hold each to its own.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keys {
    /// `""`, or the configured prefix and a `:`.
    prefix: String,
}

impl Keys {
    /// Keys starting with `prefix` and a `:`, or with `dingscope:` for an empty prefix.
    pub(crate) fn new(prefix: &str) -> Keys {
        Keys {
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}:")
            },
        }
    }

    /// The app's latest suite ticket.
    pub(crate) fn ticket(&self, app: &str) -> String {
        format!("{}dingscope:ticket:{}", self.prefix, escape(app))
    }

    /// What `who` has granted the app.
    pub(crate) fn grant(&self, app: &str, who: &Who) -> String {
        format!("{}dingscope:grant:{}", self.prefix, principal(app, who))
    }

    /// A user's refresh token.
    pub(crate) fn refresh(&self, app: &str, who: &Who) -> String {
        format!("{}dingscope:refresh:{}", self.prefix, principal(app, who))
    }

    /// The shared access token of the token id `id`.
    pub(crate) fn token(&self, id: &str) -> String {
        format!("{}dingscope:token:{id}", self.prefix)
    }

    /// The corp registry's entry of `corp`.
    pub(crate) fn corp(&self, app: &str, corp: &str) -> String {
        format!(
            "{}dingscope:corp:{}:{}",
            self.prefix,
            escape(app),
            escape(corp)
        )
    }

    /// Why calls for `corp` are refused (the app stopped or removed), if they are.
    pub(crate) fn stopped(&self, app: &str, corp: &str) -> String {
        format!(
            "{}dingscope:stopped:{}:{}",
            self.prefix,
            escape(app),
            escape(corp)
        )
    }

    /// The Stream connection's lease: which instance holds the app's one connection.
    #[cfg(feature = "stream")]
    pub(crate) fn stream_lease(&self, app: &str) -> String {
        format!("{}dingscope:stream:{}", self.prefix, escape(app))
    }

    /// The IP ban's breaker: a deadline before which none of the app's calls is sent.
    pub(crate) fn ban(&self, app: &str) -> String {
        format!("{}dingscope:ban:{}", self.prefix, escape(app))
    }

    /// The throttle deadline of the app's calls of `endpoint` for `corp`.
    pub(crate) fn throttle(&self, app: &str, corp: &str, endpoint: &str) -> String {
        format!(
            "{}dingscope:throttle:{}:{}:{}",
            self.prefix,
            escape(app),
            escape(corp),
            escape(endpoint)
        )
    }

    /// The rate limiter's count of the app's calls of `endpoint` in the Unix second
    /// `second`.
    pub(crate) fn rate(&self, app: &str, endpoint: &str, second: u64) -> String {
        format!(
            "{}dingscope:rate:{}:{}:{second}",
            self.prefix,
            escape(app),
            escape(endpoint)
        )
    }

    /// The cross-instance refresh lock of the token id `id`.
    pub(crate) fn lock(&self, id: &str) -> String {
        format!("{}dingscope:lock:{id}", self.prefix)
    }
}

/// The token cache's id for `who`'s access token: also the suffix of its store key and
/// of its refresh lock's.
pub(crate) fn token_id(app: &str, who: &Who) -> String {
    format!("{}:{}", principal(app, who), who.auth_type().as_str())
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
        let keys = Keys::default();
        assert_ne!(
            keys.grant("app", &Who::Corp("dingA:user1".into())),
            keys.grant("app", &user("dingA", "user1"))
        );
        assert_ne!(
            token_id("app", &user("a:b", "c")),
            token_id("app", &user("a", "b:c"))
        );
        assert_ne!(keys.ticket("a%3Ab"), keys.ticket("a:b"));
        assert_eq!(
            keys.grant("app", &Who::Corp("ding1".into())),
            "dingscope:grant:app:ding1"
        );
        assert_eq!(
            Keys::new("staging").grant("app", &Who::Corp("ding1".into())),
            "staging:dingscope:grant:app:ding1"
        );
    }
}
