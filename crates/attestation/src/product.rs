//! SEV-SNP products and AMD's pinned root (ARK) public keys, as CCF pins them
//! (`include/ccf/pal/attestation_sev_snp.h`, from https://developer.amd.com/sev/). Turin is
//! recognised but, as in CCF, has no pinned root yet, so its reports are refused.

use crate::error::SnpError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Milan,
    Genoa,
}

impl Product {
    /// The product of a version 3+ report's CPUID family and model (CCF's
    /// `get_sev_snp_product`, restricted to products with a pinned root).
    pub fn from_cpuid(family: u8, model: u8) -> Result<Product, SnpError> {
        match (family, model) {
            (0x19, 0x01) => Ok(Product::Milan),
            (0x19, 0x11) => Ok(Product::Genoa),
            _ => Err(SnpError::UnsupportedCpuid { family, model }),
        }
    }

    pub const ALL: [Product; 2] = [Product::Milan, Product::Genoa];
}

/// AMD's root public key for `product`, as CCF pins it (SubjectPublicKeyInfo PEM).
pub fn amd_root_public_key_pem(product: Product) -> &'static str {
    match product {
        Product::Milan => MILAN_ARK,
        Product::Genoa => GENOA_ARK,
    }
}

const MILAN_ARK: &str = "-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA0Ld52RJOdeiJlqK2JdsV
mD7FktuotWwX1fNgW41XY9Xz1HEhSUmhLz9Cu9DHRlvgJSNxbeYYsnJfvyjx1MfU
0V5tkKiU1EesNFta1kTA0szNisdYc9isqk7mXT5+KfGRbfc4V/9zRIcE8jlHN61S
1ju8X93+6dxDUrG2SzxqJ4BhqyYmUDruPXJSX4vUc01P7j98MpqOS95rORdGHeI5
2Naz5m2B+O+vjsC060d37jY9LFeuOP4Meri8qgfi2S5kKqg/aF6aPtuAZQVR7u3K
FYXP59XmJgtcog05gmI0T/OitLhuzVvpZcLph0odh/1IPXqx3+MnjD97A7fXpqGd
/y8KxX7jksTEzAOgbKAeam3lm+3yKIcTYMlsRMXPcjNbIvmsBykD//xSniusuHBk
gnlENEWx1UcbQQrs+gVDkuVPhsnzIRNgYvM48Y+7LGiJYnrmE8xcrexekBxrva2V
9TJQqnN3Q53kt5viQi3+gCfmkwC0F0tirIZbLkXPrPwzZ0M9eNxhIySb2npJfgnq
z55I0u33wh4r0ZNQeTGfw03MBUtyuzGesGkcw+loqMaq1qR4tjGbPYxCvpCq7+Og
pCCoMNit2uLo9M18fHz10lOMT8nWAUvRZFzteXCm+7PHdYPlmQwUw3LvenJ/ILXo
QPHfbkH0CyPfhl1jWhJFZasCAwEAAQ==
-----END PUBLIC KEY-----
";

const GENOA_ARK: &str = "-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA3Cd95S/uFOuRIskW9vz9
VDBF69NDQF79oRhL/L2PVQGhK3YdfEBgpF/JiwWFBsT/fXDhzA01p3LkcT/7Ldjc
RfKXjHl+0Qq/M4dZkh6QDoUeKzNBLDcBKDDGWo3v35NyrxbA1DnkYwUKU5AAk4P9
4tKXLp80oxt84ahyHoLmc/LqsGsp+oq1Bz4PPsYLwTG4iMKVaaT90/oZ4I8oibSr
u92vJhlqWO27d/Rxc3iUMyhNeGToOvgx/iUo4gGpG61NDpkEUvIzuKcaMx8IdTpW
g2DF6SwF0IgVMffnvtJmA68BwJNWo1E4PLJdaPfBifcJpuBFwNVQIPQEVX3aP89H
JSp8YbY9lySS6PlVEqTBBtaQmi4ATGmMR+n2K/e+JAhU2Gj7jIpJhOkdH9firQDn
mlA2SFfJ/Cc0mGNzW9RmIhyOUnNFoclmkRhl3/AQU5Ys9Qsan1jT/EiyT+pCpmnA
+y9edvhDCbOG8F2oxHGRdTBkylungrkXJGYiwGrR8kaiqv7NN8QhOBMqYjcbrkEr
0f8QMKklIS5ruOfqlLMCBw8JLB3LkjpWgtD7OpxkzSsohN47Uom86RY6lp72g8eX
HP1qYrnvhzaG1S70vw6OkbaaC9EjiH/uHgAJQGxon7u0Q7xgoREWA/e7JcBQwLg8
0Hq/sbRuqesxz7wBWSY254cCAwEAAQ==
-----END PUBLIC KEY-----
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuids_map_to_products_and_others_are_refused() {
        assert_eq!(Product::from_cpuid(0x19, 0x01), Ok(Product::Milan));
        assert_eq!(Product::from_cpuid(0x19, 0x11), Ok(Product::Genoa));
        let turin = Product::from_cpuid(0x1A, 0x01).unwrap_err();
        assert_eq!(
            turin.to_string(),
            "SEV-SNP: Unsupported CPUID family 26 model 1"
        );
    }

    #[test]
    fn pinned_roots_are_rsa_4096_public_keys() {
        for product in Product::ALL {
            let block =
                cloister_crypto::first_pem_block(amd_root_public_key_pem(product), &["PUBLIC KEY"])
                    .unwrap();
            assert_eq!(block.der.len(), 550, "{product:?}");
        }
    }
}
