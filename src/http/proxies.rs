//! Reverse proxies whose `X-Forwarded-For` is believed, and the client address
//! they forwarded.
use std::net::IpAddr;

/// Reverse proxies whose `X-Forwarded-For` header is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Comma-separated addresses or CIDR ranges (`10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("`{item}` is not an address or CIDR range"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("`{item}` has an invalid prefix length"))?,
            };
            out.push((addr, bits));
        }
        Ok(TrustedProxies(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| match (canonical(*net), ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
                (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
                _ => false,
            })
    }

    /// The client of a request that arrived from `peer`: the peer itself
    /// unless it is a trusted proxy; then the right-most `X-Forwarded-For`
    /// address that is not a trusted proxy (addresses further left were written
    /// by the client and prove nothing).
    pub fn client(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map_while(|h| h.trim().parse().ok())
            .collect();
        hops.iter()
            .rev()
            .copied()
            .find(|ip| !self.contains(*ip))
            .or_else(|| hops.first().copied())
            .unwrap_or(peer)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = ((bits / 8) as usize, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        // (peer, X-Forwarded-For or none, the client it makes)
        let cases = [
            // A direct client cannot choose its address.
            ("203.0.113.9", Some("1.2.3.4"), "203.0.113.9"),
            // Behind the proxy: the right-most untrusted hop, not what the client wrote.
            (
                "10.1.2.3",
                Some("1.2.3.4, 198.51.100.7, 10.9.9.9"),
                "198.51.100.7",
            ),
            ("::1", Some("198.51.100.7"), "198.51.100.7"),
            ("::ffff:10.0.0.1", Some("198.51.100.8"), "198.51.100.8"),
            // A proxy that forwarded nothing usable is the client.
            ("10.1.2.3", None, "10.1.2.3"),
        ];
        for (peer, xff, client) in cases {
            let peer: IpAddr = peer.parse().unwrap();
            let forwarded = xff.map(headers).unwrap_or_default();
            assert_eq!(
                proxies.client(peer, &forwarded),
                client.parse::<IpAddr>().unwrap(),
                "{peer} forwarding {xff:?}"
            );
        }
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
