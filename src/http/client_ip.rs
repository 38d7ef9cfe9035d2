//! The client's IP: the peer address, or the right-most address in
//! `X-Forwarded-For` not belonging to a trusted proxy when the peer is one.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, Request};
use ipnet::IpNet;

pub fn client_ip(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    from(&parts.extensions, &parts.headers, trusted)
}

/// The same, from a whole request (without taking it apart).
pub fn client_ip_of<B>(req: &Request<B>, trusted: &[IpNet]) -> Option<IpAddr> {
    from(req.extensions(), req.headers(), trusted)
}

fn from(extensions: &Extensions, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    resolve(
        peer,
        headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()),
        trusted,
    )
}

fn resolve(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(forwarded) = forwarded else {
        return Some(peer);
    };
    let mut last = peer;
    for hop in forwarded.split(',').rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => last = ip,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(last),
        }
    }
    Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpNet = "10.0.0.0/8".parse().unwrap();
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            resolve(peer, Some("198.51.100.1, 203.0.113.9, 10.0.0.5"), &[proxy]),
            Some(outsider)
        );
        assert_eq!(resolve(outsider, Some("1.2.3.4"), &[proxy]), Some(outsider));
        assert_eq!(resolve(peer, None, &[proxy]), Some(peer));
    }
}
