//! A parent zone at a registrar: nobody can write its NS record by API, so
//! the link tells the user exactly what to enter, then watches DNS. The
//! parent's servers are found by walking the authoritative chain from the
//! root ([`crate::walk`]), never from a configured address, so what is seen
//! is what every resolver will see.

use crate::dns::{AddressResolver, DnsClient};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::walk::{self, ParentFound, WalkError};

use super::ManualParent;

/// The registrar's delegation as DNS shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarView {
    /// The parent zone's name servers (as the zone above refers to them).
    pub parent_name_servers: NsSet,
    /// What they refer `name` to; `None` when not delegated.
    pub delegated_to: Option<NsSet>,
}

/// Walks from the root to the servers of `p.zone` and asks them about
/// `name`. The walk must end in the configured zone: a name delegated from
/// another zone (a zone cut between) is an error naming it.
pub async fn observe(
    p: &ManualParent,
    name: &DomainName,
    client: &DnsClient,
    resolver: &AddressResolver,
) -> Result<RegistrarView, crate::error::BoxError> {
    let found: ParentFound = walk::find_parent(name, &p.roots, client, resolver)
        .await
        .map_err(|e: WalkError| walk::WalkFailed {
            name: name.clone(),
            source: e,
        })?;
    if found.parent_zone != p.zone {
        return Err(format!(
            "{name} is delegated from zone {} (walked {}), not from parent.manual.zone {}; set parent.manual.zone = \"{}\"",
            found.parent_zone,
            found.chain.join(" > "),
            p.zone,
            found.parent_zone
        )
        .into());
    }
    Ok(RegistrarView {
        parent_name_servers: found.parent_name_servers,
        delegated_to: found.delegated_to,
    })
}

/// What to enter at the registrar, in words, for the warning diagnostic and
/// the `registrar_instructions` attribute.
pub fn instructions(name: &DomainName, zone: &DomainName, servers: &NsSet) -> String {
    format!(
        "At the registrar (or whoever runs zone {zone}), delegate {name} to exactly these name servers, as NS records for {name}: {}. No glue records are needed (the servers are not under {name})",
        servers.to_strings().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_name_every_server_and_the_zone() {
        let ns = NsSet::parse(["ns-2.awsdns-02.net", "ns-1.awsdns-01.com"]).unwrap();
        let t = instructions(
            &DomainName::parse("api.example.org").unwrap(),
            &DomainName::parse("example.org").unwrap(),
            &ns,
        );
        assert!(t.contains("ns-1.awsdns-01.com, ns-2.awsdns-02.net"), "{t}");
        assert!(t.contains("zone example.org"), "{t}");
    }
}
