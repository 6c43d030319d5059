//! The simulated network between nodes (indexed 0..n): per-message delay (so reordering),
//! drops, duplicates, and link states — cut (partitions, one-way or both ways: messages are
//! lost, also those in flight) and clogged (messages wait until the link clears).

use std::collections::{BTreeMap, BTreeSet};

use crate::random::SimRng;

/// A message between two nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub from: usize,
    pub to: usize,
    pub bytes: Vec<u8>,
}

/// How a seed's network misbehaves (TESTING.md fault menu). Rates are per million.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkFaults {
    pub drop_per_million: u64,
    pub duplicate_per_million: u64,
    /// Mean one-way delay; each message takes uniform [1, 2 × mean] ms.
    pub delay_mean_ms: u64,
}

impl NetworkFaults {
    /// A healthy network: nothing lost, a few ms of latency.
    pub const HEALTHY: NetworkFaults = NetworkFaults {
        drop_per_million: 0,
        duplicate_per_million: 0,
        delay_mean_ms: 3,
    };
}

/// What happened to one send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Lost at once (a drop, or the link is cut).
    Dropped,
    /// On its way, arriving at the given time (twice when duplicated).
    Queued {
        at_ms: u64,
        duplicate_at_ms: Option<u64>,
    },
}

/// The network: messages in flight by arrival time, and link states.
#[derive(Debug, Default)]
pub struct Network {
    in_flight: BTreeMap<(u64, u64), Packet>,
    sequence: u64,
    cut: BTreeSet<(usize, usize)>,
    clogged: BTreeSet<(usize, usize)>,
    held: Vec<Packet>,
}

impl Network {
    pub fn new() -> Network {
        Network::default()
    }

    /// Sends `packet` at `now_ms` under `faults`.
    pub fn send(
        &mut self,
        now_ms: u64,
        packet: Packet,
        faults: &NetworkFaults,
        rng: &mut SimRng,
    ) -> Sent {
        if self.is_cut(packet.from, packet.to) || rng.chance(faults.drop_per_million) {
            return Sent::Dropped;
        }
        let at_ms = now_ms + rng.range(1, faults.delay_mean_ms.saturating_mul(2).max(1));
        let duplicate_at_ms = rng
            .chance(faults.duplicate_per_million)
            .then(|| now_ms + rng.range(1, faults.delay_mean_ms.saturating_mul(2).max(1)));
        if let Some(at) = duplicate_at_ms {
            self.enqueue(at, packet.clone());
        }
        self.enqueue(at_ms, packet);
        Sent::Queued {
            at_ms,
            duplicate_at_ms,
        }
    }

    fn enqueue(&mut self, at_ms: u64, packet: Packet) {
        self.sequence += 1;
        self.in_flight.insert((at_ms, self.sequence), packet);
    }

    /// When the next message arrives, if any is in flight.
    pub fn next_arrival_ms(&self) -> Option<u64> {
        self.in_flight.keys().next().map(|(at, _)| *at)
    }

    /// The next message due by `now_ms`: `Ok` to deliver, `Err` if its link was cut meanwhile
    /// (lost). A message on a clogged link is held and the next one is looked at.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<Result<Packet, Packet>> {
        loop {
            let (&key, _) = self.in_flight.iter().next()?;
            if key.0 > now_ms {
                return None;
            }
            let packet = self.in_flight.remove(&key)?;
            if self.is_cut(packet.from, packet.to) {
                return Some(Err(packet));
            }
            if self.clogged.contains(&(packet.from, packet.to)) {
                self.held.push(packet);
                continue;
            }
            return Some(Ok(packet));
        }
    }

    pub fn is_cut(&self, from: usize, to: usize) -> bool {
        self.cut.contains(&(from, to))
    }

    /// Cuts `from → to` (one way).
    pub fn cut(&mut self, from: usize, to: usize) {
        self.cut.insert((from, to));
    }

    /// Clogs `from → to`: messages wait until [`Network::heal`].
    pub fn clog(&mut self, from: usize, to: usize) {
        self.clogged.insert((from, to));
    }

    /// Whether any link is cut or clogged.
    pub fn is_partitioned(&self) -> bool {
        !self.cut.is_empty() || !self.clogged.is_empty()
    }

    /// Restores every link; held messages leave again with fresh delays.
    pub fn heal(&mut self, now_ms: u64, faults: &NetworkFaults, rng: &mut SimRng) {
        self.cut.clear();
        self.clogged.clear();
        for packet in std::mem::take(&mut self.held) {
            let at = now_ms + rng.range(1, faults.delay_mean_ms.saturating_mul(2).max(1));
            self.enqueue(at, packet);
        }
    }

    /// Drops everything in flight to or held for `node` (its process went away).
    pub fn forget_node(&mut self, node: usize) {
        self.in_flight.retain(|_, p| p.to != node);
        self.held.retain(|p| p.to != node);
    }

    /// Messages in flight or held.
    pub fn len(&self) -> usize {
        self.in_flight.len() + self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(from: usize, to: usize, tag: u8) -> Packet {
        Packet {
            from,
            to,
            bytes: vec![tag],
        }
    }

    #[test]
    fn messages_arrive_in_time_order_and_cut_links_lose_them() {
        let mut rng = SimRng::new(1);
        let mut net = Network::new();
        let slow = NetworkFaults {
            delay_mean_ms: 50,
            ..NetworkFaults::HEALTHY
        };
        for tag in 0..50 {
            assert!(matches!(
                net.send(0, packet(0, 1, tag), &slow, &mut rng),
                Sent::Queued { .. }
            ));
        }
        let mut order = Vec::new();
        while let Some(Ok(p)) = net.pop_due(1_000) {
            order.push(p.bytes[0]);
        }
        assert_eq!(order.len(), 50);
        assert_ne!(order, (0..50).collect::<Vec<u8>>(), "delays reorder");

        net.send(0, packet(0, 1, 7), &slow, &mut rng);
        net.cut(0, 1);
        assert_eq!(net.pop_due(1_000), Some(Err(packet(0, 1, 7))));
        assert_eq!(net.send(0, packet(0, 1, 8), &slow, &mut rng), Sent::Dropped);
        assert!(matches!(
            net.send(0, packet(1, 0, 9), &slow, &mut rng),
            Sent::Queued { .. }
        ));
    }

    #[test]
    fn clogged_links_hold_messages_until_healed_and_drops_follow_the_rate() {
        let mut rng = SimRng::new(2);
        let mut net = Network::new();
        net.clog(0, 1);
        net.send(0, packet(0, 1, 1), &NetworkFaults::HEALTHY, &mut rng);
        assert_eq!(net.pop_due(100), None);
        assert_eq!(net.len(), 1);
        net.heal(100, &NetworkFaults::HEALTHY, &mut rng);
        assert_eq!(net.pop_due(200), Some(Ok(packet(0, 1, 1))));

        let lossy = NetworkFaults {
            drop_per_million: 300_000,
            duplicate_per_million: 500_000,
            delay_mean_ms: 5,
        };
        let sent: Vec<Sent> = (0..1_000)
            .map(|_| net.send(0, packet(0, 1, 0), &lossy, &mut rng))
            .collect();
        let dropped = sent.iter().filter(|s| **s == Sent::Dropped).count();
        let doubled = sent
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    Sent::Queued {
                        duplicate_at_ms: Some(_),
                        ..
                    }
                )
            })
            .count();
        assert!((250..=350).contains(&dropped), "{dropped}");
        assert!((300..=400).contains(&doubled), "{doubled}");
        net.forget_node(1);
        assert!(net.is_empty());
    }
}
