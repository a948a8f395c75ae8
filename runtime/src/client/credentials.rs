//! The app's credentials, which decide the token flow.

use std::fmt;

use crate::Secret;

/// The app's credentials, which decide the token flow.
#[derive(Clone)]
pub enum App {
    /// An internal (self-built) app of one corp: `POST /v1.0/oauth2/accessToken`.
    Internal {
        /// AppKey (the client id).
        app_key: String,
        /// AppSecret.
        app_secret: Secret,
        /// The corp the app belongs to.
        corp_id: String,
    },
    /// A third-party (ISV) app: `POST /v1.0/oauth2/corpAccessToken` for each authorized
    /// corp, with the latest suite ticket from the store.
    Isv {
        /// SuiteKey (the client id).
        suite_key: String,
        /// SuiteSecret.
        suite_secret: Secret,
    },
    /// Any app through the unified endpoint `POST /v1.0/oauth2/{corpId}/token`.
    Unified {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
}

impl App {
    /// An internal app.
    pub fn internal(
        app_key: impl Into<String>,
        app_secret: Secret,
        corp_id: impl Into<String>,
    ) -> App {
        App::Internal {
            app_key: app_key.into(),
            app_secret,
            corp_id: corp_id.into(),
        }
    }

    /// An ISV app.
    pub fn isv(suite_key: impl Into<String>, suite_secret: Secret) -> App {
        App::Isv {
            suite_key: suite_key.into(),
            suite_secret,
        }
    }

    /// An app using the unified token endpoint.
    pub fn unified(client_id: impl Into<String>, client_secret: Secret) -> App {
        App::Unified {
            client_id: client_id.into(),
            client_secret,
        }
    }

    /// The client id (AppKey, SuiteKey), which openAuth's `clientId` takes.
    pub fn client_id(&self) -> &str {
        match self {
            App::Internal { app_key, .. } => app_key,
            App::Isv { suite_key, .. } => suite_key,
            App::Unified { client_id, .. } => client_id,
        }
    }

    pub(crate) fn secret(&self) -> &Secret {
        match self {
            App::Internal { app_secret, .. } => app_secret,
            App::Isv { suite_secret, .. } => suite_secret,
            App::Unified { client_secret, .. } => client_secret,
        }
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            App::Internal { .. } => "Internal",
            App::Isv { .. } => "Isv",
            App::Unified { .. } => "Unified",
        };
        f.debug_struct(kind)
            .field("client_id", &self.client_id())
            .field("secret", self.secret())
            .finish()
    }
}
