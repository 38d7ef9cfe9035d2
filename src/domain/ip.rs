//! The unit a per-address limit counts: one IPv4 address, or one IPv6 /64
//! (a single host or home usually gets a whole /64, so counting single
//! IPv6 addresses would let one client rotate through billions of keys).

use std::net::{IpAddr, Ipv6Addr};

pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::rate_key;

    #[test]
    fn ipv6_addresses_count_per_64() {
        let a = rate_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = rate_key("2001:db8:1:2:ffff:1:2:3".parse().unwrap());
        let c = rate_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::");
        assert_eq!(
            rate_key("::ffff:10.1.2.3".parse().unwrap()).to_string(),
            "10.1.2.3"
        );
        assert_eq!(
            rate_key("10.1.2.3".parse().unwrap()).to_string(),
            "10.1.2.3"
        );
    }
}
