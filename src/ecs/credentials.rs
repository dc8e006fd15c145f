//! Access credentials, taken as a value (Function Compute hands them over per request in
//! headers) or from the settings' lookup. Secret and token never appear in `Debug`/`Display`.

use std::fmt;

pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
/// Terraform's alicloud provider names, accepted so Terraform users need not rename.
pub const ENV_TF_ACCESS_KEY: &str = "ALICLOUD_ACCESS_KEY";
pub const ENV_TF_SECRET_KEY: &str = "ALICLOUD_SECRET_KEY";
pub const ENV_TF_SECURITY_TOKEN: &str = "ALICLOUD_SECURITY_TOKEN";

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret: String,
    security_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("environment variable {missing} is not set but {present} is: set both or neither")]
    Incomplete {
        missing: &'static str,
        present: &'static str,
    },
}

impl Credentials {
    /// An empty token counts as none: FC passes an empty header for long-term keys.
    pub fn new(
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
        security_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            security_token: security_token.filter(|t| !t.is_empty()),
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Only the signer should need this.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// `ALIBABA_CLOUD_*` first, then Terraform's `ALICLOUD_*`, each as a set: the id and
    /// secret come from the same family so a half-configured family is an error rather
    /// than silently mixed with the other. `Ok(None)` when neither family sets anything.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, CredentialsError> {
        let families = [
            (ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN),
            (ENV_TF_ACCESS_KEY, ENV_TF_SECRET_KEY, ENV_TF_SECURITY_TOKEN),
        ];
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        for (id_var, secret_var, token_var) in families {
            match (get(id_var), get(secret_var)) {
                (Some(id), Some(secret)) => {
                    return Ok(Some(Credentials::new(id, secret, get(token_var))))
                }
                (Some(_), None) => {
                    return Err(CredentialsError::Incomplete {
                        missing: secret_var,
                        present: id_var,
                    })
                }
                (None, Some(_)) => {
                    return Err(CredentialsError::Incomplete {
                        missing: id_var,
                        present: secret_var,
                    })
                }
                (None, None) => {}
            }
        }
        Ok(None)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"***")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (secret ***", self.access_key_id)?;
        if self.security_token.is_some() {
            write!(f, ", STS token ***")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_env::env as lookup_from;

    #[test]
    fn nothing_set_is_none() {
        assert_eq!(Credentials::from_lookup(lookup_from(&[])), Ok(None));
        assert_eq!(
            Credentials::from_lookup(lookup_from(&[(ENV_ACCESS_KEY_ID, "")])),
            Ok(None)
        );
    }

    #[test]
    fn alibaba_names_win_over_terraform_names() {
        let creds = Credentials::from_lookup(lookup_from(&[
            (ENV_ACCESS_KEY_ID, "LTAIali"),
            (ENV_ACCESS_KEY_SECRET, "ali-secret"),
            (ENV_SECURITY_TOKEN, "ali-token"),
            (ENV_TF_ACCESS_KEY, "LTAItf"),
            (ENV_TF_SECRET_KEY, "tf-secret"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(creds.access_key_id(), "LTAIali");
        assert_eq!(creds.secret(), "ali-secret");
        assert_eq!(creds.security_token(), Some("ali-token"));
    }

    #[test]
    fn terraform_names_are_a_fallback() {
        let creds = Credentials::from_lookup(lookup_from(&[
            (ENV_TF_ACCESS_KEY, "LTAItf"),
            (ENV_TF_SECRET_KEY, "tf-secret"),
            (ENV_TF_SECURITY_TOKEN, "tf-token"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(creds.access_key_id(), "LTAItf");
        assert_eq!(creds.secret(), "tf-secret");
        assert_eq!(creds.security_token(), Some("tf-token"));
    }

    #[test]
    fn half_a_pair_names_the_missing_variable() {
        let err =
            Credentials::from_lookup(lookup_from(&[(ENV_ACCESS_KEY_ID, "LTAI")])).unwrap_err();
        assert!(err.to_string().contains(ENV_ACCESS_KEY_SECRET), "{err}");
        let err = Credentials::from_lookup(lookup_from(&[(ENV_TF_SECRET_KEY, "s")])).unwrap_err();
        assert!(err.to_string().contains(ENV_TF_ACCESS_KEY), "{err}");
    }

    #[test]
    fn empty_token_means_long_term_keys() {
        let creds = Credentials::new("id", "secret", Some(String::new()));
        assert_eq!(creds.security_token(), None);
    }

    #[test]
    fn debug_and_display_hide_secret_and_token() {
        let creds = Credentials::new(
            "LTAIvisible",
            "SECRET-canary-123",
            Some("TOKEN-canary-456".into()),
        );
        for shown in [
            format!("{creds:?}"),
            format!("{creds:#?}"),
            creds.to_string(),
        ] {
            assert!(shown.contains("LTAIvisible"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
            assert!(!shown.contains("SECRET-canary-123"), "{shown}");
            assert!(!shown.contains("TOKEN-canary-456"), "{shown}");
        }
    }
}
