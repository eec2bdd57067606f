//! The clouds and regions the API lives in: each name's API host and sign-in authority
//! (FACTS.md section 4, "Base URLs"). `--api-url` overrides the host.

use std::fmt;
use std::str::FromStr;

/// A Defender for Endpoint API deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cloud {
    pub name: &'static str,
    pub api_url: &'static str,
    /// Where tokens come from (Entra ID's login host for this cloud).
    pub authority: &'static str,
    /// The Defender portal, for deep links in reports.
    pub portal: &'static str,
    pub about: &'static str,
}

const COMMERCIAL_LOGIN: &str = "https://login.microsoftonline.com";
/// Portals per FACTS.md section 4: GCC shares the commercial one.
const COMMERCIAL_PORTAL: &str = "https://security.microsoft.com";
const GOV_PORTAL: &str = "https://security.microsoft.us";
const DOD_PORTAL: &str = "https://security.apps.mil";

/// Every name `--cloud` and the config file accept, the default first.
pub const CLOUDS: &[Cloud] = &[
    Cloud {
        name: "public",
        api_url: "https://api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, routed to your tenant's region",
    },
    Cloud {
        name: "us",
        api_url: "https://us.api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, United States data centres",
    },
    Cloud {
        name: "eu",
        api_url: "https://eu.api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, European Union",
    },
    Cloud {
        name: "uk",
        api_url: "https://uk.api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, United Kingdom",
    },
    Cloud {
        name: "au",
        api_url: "https://au.api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, Australia",
    },
    Cloud {
        name: "swa",
        api_url: "https://swa.api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, Switzerland",
    },
    Cloud {
        name: "ina",
        api_url: "https://ina.api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, India",
    },
    Cloud {
        name: "aea",
        api_url: "https://aea.api.security.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, United Arab Emirates",
    },
    Cloud {
        name: "legacy",
        api_url: "https://api.securitycenter.microsoft.com",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "commercial, the older host most examples use",
    },
    Cloud {
        name: "gcc",
        api_url: "https://api-gcc.securitycenter.microsoft.us",
        authority: COMMERCIAL_LOGIN,
        portal: COMMERCIAL_PORTAL,
        about: "US Government Community Cloud",
    },
    Cloud {
        name: "gcc-high",
        api_url: "https://api-gov.securitycenter.microsoft.us",
        authority: "https://login.microsoftonline.us",
        portal: GOV_PORTAL,
        about: "US Government GCC High",
    },
    Cloud {
        name: "dod",
        api_url: "https://api-gov.securitycenter.microsoft.us",
        authority: "https://login.microsoftonline.us",
        portal: DOD_PORTAL,
        about: "US Department of Defense",
    },
];

impl Cloud {
    pub fn public() -> Cloud {
        CLOUDS[0]
    }

    /// The names, for messages: `public, us, eu, ...`.
    pub fn names() -> String {
        CLOUDS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
    }
}

impl Default for Cloud {
    fn default() -> Self {
        Self::public()
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cloud '{0}' (expected one of: {names})", names = Cloud::names())]
pub struct UnknownCloud(pub String);

impl FromStr for Cloud {
    type Err = UnknownCloud;

    fn from_str(s: &str) -> Result<Self, UnknownCloud> {
        let wanted = s.trim().to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "commercial" | "global" => "public",
            "gcchigh" | "gcc_high" => "gcc-high",
            other => other,
        };
        CLOUDS
            .iter()
            .find(|c| c.name == wanted)
            .copied()
            .ok_or_else(|| UnknownCloud(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_hosts_and_authorities() {
        let eu: Cloud = "EU".parse().unwrap();
        assert_eq!(eu.api_url, "https://eu.api.security.microsoft.com");
        let high: Cloud = "gcc-high".parse().unwrap();
        assert_eq!(high.authority, "https://login.microsoftonline.us");
        assert_eq!("commercial".parse::<Cloud>().unwrap(), Cloud::public());
        let err = "mars".parse::<Cloud>().unwrap_err().to_string();
        assert!(err.contains("public, us, eu"), "{err}");
        // Every host is https: a token never crosses the network in clear.
        assert!(CLOUDS.iter().all(|c| c.api_url.starts_with("https://")));
    }
}
