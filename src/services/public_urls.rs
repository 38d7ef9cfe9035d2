//! URLs people type in (a homepage, an achievement's source) and URLs a
//! provider is asked to fetch must point at a public host: never at this
//! machine, the university's private network, link-local or cloud metadata
//! addresses (server-side request forgery through Firecrawl, which may run
//! self-hosted inside that network).
//!
//! The check is on the URL's text (scheme, IP literals, local names) and on
//! what its name resolves to now. A name that does not resolve at all is
//! let through: nobody behind the same resolver can reach it either, and
//! the fetch-time check runs again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use url::{Host, Url};

/// Names that are local by definition, whatever a resolver says.
const LOCAL_SUFFIXES: &[&str] = &[
    "localhost",
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".intranet",
    ".lan",
];

/// Whether an address is reachable on the public internet (not loopback,
/// private, link-local, CGNAT, documentation, multicast or reserved).
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])
        || s[..6] == [0, 0, 0, 0, 0, 0])
}

/// The text checks: `schemes`, a host name (no IP literal, no local name),
/// no user or password, no port but the scheme's own.
fn parse(raw: &str, schemes: &[&str]) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.len() > 500 {
        return Err("must be at most 500 characters".into());
    }
    let url = Url::parse(raw).map_err(|_| "is not a URL".to_string())?;
    if !schemes.contains(&url.scheme()) {
        return Err(if schemes == ["https"] {
            "must start with https://".into()
        } else {
            "must be an http(s) URL".into()
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.port().is_some() {
        return Err("must not name a port".into());
    }
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if !name.contains('.')
                || LOCAL_SUFFIXES
                    .iter()
                    .any(|s| name == s.trim_start_matches('.') || name.ends_with(s))
            {
                return Err("must be on a public web site".into());
            }
            Ok(url)
        }
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
            Err("must use a host name, not an IP address".into())
        }
        None => Err("must name a web site".into()),
    }
}

/// Every address the URL's host resolves to now must be public.
async fn resolves_public(url: &Url) -> Result<(), String> {
    let Some(host) = url.host_str() else {
        return Err("must name a web site".into());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host.to_string(), port));
    match tokio::time::timeout(Duration::from_secs(3), lookup).await {
        Ok(Ok(addrs)) => {
            for a in addrs {
                if !is_public_ip(a.ip()) {
                    return Err("must be on a public web site".into());
                }
            }
            Ok(())
        }
        // Unresolvable now: see the module comment.
        Ok(Err(_)) | Err(_) => Ok(()),
    }
}

/// A URL someone typed in: `https` to a public host. Returns it trimmed.
pub async fn check_entered(raw: &str) -> Result<String, String> {
    let url = parse(raw, &["https"])?;
    resolves_public(&url).await?;
    Ok(raw.trim().to_string())
}

/// Checked again right before a provider is asked to fetch it (collected
/// homepages may be plain http).
pub async fn check_fetch(raw: &str) -> Result<String, String> {
    let url = parse(raw, &["https", "http"])?;
    resolves_public(&url).await?;
    Ok(raw.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "ff02::1",
        ] {
            assert!(!is_public_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "134.76.12.1",
            "2a00:1450:4001:80b::200e",
            "64:ff9b::808:808",
        ] {
            assert!(is_public_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn literals_local_names_and_plain_http_are_refused() {
        for bad in [
            "http://uni.example/ada",
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://[::1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.5/admin",
            "https://localhost/",
            "https://printer.local/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://intranet/",
            "https://user:pw@uni.example/",
            "https://uni.example:8443/",
            "file:///etc/passwd",
            "gopher://uni.example/",
            "not a url",
        ] {
            assert!(parse(bad, &["https"]).is_err(), "{bad}");
        }
        assert!(parse("https://www.uni-bonn.de/ada", &["https"]).is_ok());
        assert!(parse("http://www.uni-bonn.de/ada", &["https", "http"]).is_ok());
    }

    #[tokio::test]
    async fn names_that_resolve_to_loopback_are_refused() {
        assert!(check_entered("https://localhost./").await.is_err());
        assert!(check_fetch("http://localhost/").await.is_err());
    }
}
