//! Port 0 in a node's configuration: the node must publish real addresses (in its join request
//! and the genesis `nodes.info`), but a joiner can only bind its channels and RPC servers once it
//! holds its endorsed certificate. So each `host:0` bind address is resolved to a free port up
//! front (bound and released at once), and a published address that defaulted to it follows.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use anyhow::Context;
use cloister_node::config::NodeConfig;

/// `config` with every port-0 bind address (node-to-node and RPC) replaced by a free port.
pub fn resolve_port_zero(mut config: NodeConfig) -> anyhow::Result<NodeConfig> {
    let n2n = &mut config.network.node_to_node_interface;
    resolve(
        "network.node_to_node_interface",
        &mut n2n.bind_address,
        &mut n2n.published_address,
    )?;
    for (name, interface) in &mut config.network.rpc_interfaces {
        resolve(
            &format!("network.rpc_interfaces.{name}"),
            &mut interface.bind_address,
            &mut interface.published_address,
        )?;
    }
    Ok(config)
}

/// The socket address `host:port` names (the first one it resolves to).
pub fn socket_address(field: &str, address: &str) -> anyhow::Result<SocketAddr> {
    address
        .to_socket_addrs()
        .with_context(|| format!("{field}.bind_address {address:?}"))?
        .next()
        .with_context(|| format!("{field}.bind_address {address:?} names no address"))
}

fn resolve(field: &str, bind: &mut String, published: &mut String) -> anyhow::Result<()> {
    let address = socket_address(field, bind)?;
    if address.port() != 0 {
        return Ok(());
    }
    let free = TcpListener::bind(address)
        .and_then(|listener| listener.local_addr())
        .with_context(|| format!("finding a free port for {field}.bind_address {bind}"))?;
    let resolved = match bind.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{}", free.port()),
        None => free.to_string(),
    };
    if *published == *bind {
        published.clone_from(&resolved);
    }
    *bind = resolved;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_node::config::parse_node_config;

    #[test]
    fn port_zero_becomes_a_free_port_and_published_addresses_follow() {
        let config = parse_node_config(
            r#"{
              "enclave": { "platform": "Virtual", "type": "Virtual" },
              "network": {
                "node_to_node_interface": { "bind_address": "127.0.0.1:0" },
                "rpc_interfaces": {
                  "a": { "bind_address": "127.0.0.1:0", "published_address": "example.com:443" },
                  "b": { "bind_address": "127.0.0.1:0" }
                }
              },
              "command": { "type": "Join", "join": { "target_rpc_address": "127.0.0.1:8000" } }
            }"#,
        )
        .unwrap();
        let config = resolve_port_zero(config).unwrap();
        let n2n = &config.network.node_to_node_interface;
        assert!(!n2n.bind_address.ends_with(":0"));
        assert!(n2n.bind_address.starts_with("127.0.0.1:"));
        assert_eq!(n2n.published_address, n2n.bind_address);
        let a = &config.network.rpc_interfaces["a"];
        assert!(!a.bind_address.ends_with(":0"));
        assert_eq!(a.published_address, "example.com:443");
        let b = &config.network.rpc_interfaces["b"];
        assert_eq!(b.published_address, b.bind_address);
        assert_ne!(a.bind_address, b.bind_address);
    }
}
