//! Stripe webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`,
//! where each `v1` is HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint
//! secret. Any one `v1` may match (Stripe signs with every active secret
//! while one is rolled); the comparison takes constant time; `t` must lie
//! within the tolerance of now.

use hmac::Mac;
use subtle::ConstantTimeEq;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `t=` or no `v1=` in the header.
    Malformed,
    /// `t` is too far from now (a replayed or delayed request).
    Stale,
    /// No `v1` value matches.
    Mismatch,
}

impl SignatureError {
    pub fn message(self) -> &'static str {
        match self {
            SignatureError::Malformed => "The Stripe-Signature header is missing or malformed.",
            SignatureError::Stale => "The Stripe-Signature timestamp is outside the tolerance.",
            SignatureError::Mismatch => "No Stripe-Signature value matches this payload.",
        }
    }
}

/// The hex `v1` signature of a payload at time `t`.
pub fn sign(secret: &str, t: i64, payload: &[u8]) -> String {
    hex::encode(mac(secret, t, payload))
}

fn mac(secret: &str, t: i64, payload: &[u8]) -> Vec<u8> {
    let mut m = crate::crypto::hmac(secret.as_bytes());
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(payload);
    m.finalize().into_bytes().to_vec()
}

/// Checks a `Stripe-Signature` header against the raw body.
pub fn verify(
    header: &str,
    payload: &[u8],
    secret: &str,
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<i64, SignatureError> {
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse::<i64>().ok(),
            Some(("v1", v)) => {
                if let Ok(bytes) = hex::decode(v.trim()) {
                    candidates.push(bytes);
                }
            }
            _ => {}
        }
    }
    let (Some(t), false) = (t, candidates.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    if (now_unix - t).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, t, payload);
    let mut matched = subtle::Choice::from(0u8);
    for c in &candidates {
        matched |= c.as_slice().ct_eq(expected.as_slice());
    }
    if bool::from(matched) {
        Ok(t)
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/stripe/webhook_signature_vector.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_published_vector_verifies() {
        let v = vector();
        let body = v["raw_body"].as_str().unwrap().as_bytes();
        let secret = v["endpoint_secret"].as_str().unwrap();
        let t = v["timestamp"].as_i64().unwrap();
        assert_eq!(sign(secret, t, body), v["expected_v1"].as_str().unwrap());
        let header = v["Stripe-Signature"].as_str().unwrap();
        assert_eq!(verify(header, body, secret, t + 10, 300), Ok(t));
    }

    #[test]
    fn any_one_of_several_v1_values_may_match() {
        let v = vector();
        let body = v["raw_body"].as_str().unwrap().as_bytes();
        let t = v["timestamp"].as_i64().unwrap();
        let good = v["expected_v1"].as_str().unwrap();
        let header = format!("t={t},v1={},v0=abc,v1={good}", "00".repeat(32));
        assert_eq!(verify(&header, body, "whsec_test_secret", t, 300), Ok(t));
    }

    #[test]
    fn bad_stale_and_malformed_signatures_are_refused() {
        let v = vector();
        let body = v["raw_body"].as_str().unwrap().as_bytes();
        let t = v["timestamp"].as_i64().unwrap();
        let header = v["Stripe-Signature"].as_str().unwrap();
        assert_eq!(
            verify(header, body, "whsec_other", t, 300),
            Err(SignatureError::Mismatch)
        );
        let mut changed = body.to_vec();
        changed[10] ^= 1;
        assert_eq!(
            verify(header, &changed, "whsec_test_secret", t, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(header, body, "whsec_test_secret", t + 301, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(header, body, "whsec_test_secret", t - 301, 300),
            Err(SignatureError::Stale)
        );
        for bad in ["", "t=abc,v1=00", &format!("t={t}"), "v1=00"] {
            assert_eq!(
                verify(bad, body, "whsec_test_secret", t, 300),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
