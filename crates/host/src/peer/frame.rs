//! Node-to-node frames: a u32 big-endian payload length, then the payload (opaque bytes the
//! node layer encodes). Reading checks the announced length against the bound before reading,
//! and grows the buffer only as bytes arrive.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Initial buffer for a frame's payload; it grows with the bytes actually received, so a peer
/// announcing a large frame and sending nothing costs nothing.
const INITIAL_PAYLOAD_CAPACITY: usize = 64 * 1024;

/// Writes one frame (not flushed). The caller has checked `payload.len()` fits in a u32.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    payload: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than u32"))?;
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(payload).await
}

/// Reads one frame. `Ok(None)` at a clean end of stream between frames; an error for a frame
/// longer than `max_bytes` (nothing of it is read) or a stream that ends inside a frame.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max_bytes: usize,
) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; 4];
    // The first byte tells a clean end (between frames) from a truncated header.
    if reader.read(&mut header[..1]).await? == 0 {
        return Ok(None);
    }
    reader.read_exact(&mut header[1..]).await?;
    let len = usize::try_from(u32::from_be_bytes(header))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "frame length overflows"))?;
    if len > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the {max_bytes}-byte bound"),
        ));
    }
    let mut payload = Vec::with_capacity(len.min(INITIAL_PAYLOAD_CAPACITY));
    let read = reader.take(len as u64).read_to_end(&mut payload).await?;
    if read != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("stream ended after {read} of {len} frame bytes"),
        ));
    }
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round_trip(frames: &[Vec<u8>], max: usize) -> Vec<io::Result<Option<Vec<u8>>>> {
        let mut wire = Vec::new();
        for frame in frames {
            write_frame(&mut wire, frame).await.unwrap();
        }
        let mut reader = wire.as_slice();
        let mut results = Vec::new();
        loop {
            let result = read_frame(&mut reader, max).await;
            let stop = !matches!(result, Ok(Some(_)));
            results.push(result);
            if stop {
                return results;
            }
        }
    }

    #[tokio::test]
    async fn frames_round_trip_including_empty_ones() {
        let frames = vec![b"hello".to_vec(), Vec::new(), vec![7u8; 100_000]];
        let results = round_trip(&frames, 1 << 20).await;
        assert_eq!(results.len(), 4);
        for (result, frame) in results.iter().zip(&frames) {
            assert_eq!(result.as_ref().unwrap().as_ref().unwrap(), frame);
        }
        assert!(matches!(results[3], Ok(None)));
    }

    #[tokio::test]
    async fn header_is_big_endian_length() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"abc").await.unwrap();
        assert_eq!(wire, [0, 0, 0, 3, b'a', b'b', b'c']);
    }

    #[tokio::test]
    async fn oversized_frame_is_refused_before_reading_it() {
        // Announces 4 GiB and sends nothing more: refused at once, no allocation of 4 GiB.
        let wire = [0xff, 0xff, 0xff, 0xff];
        let error = read_frame(&mut wire.as_slice(), 1024).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        let results = round_trip(&[vec![1u8; 11]], 10).await;
        assert_eq!(
            results[0].as_ref().unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[tokio::test]
    async fn truncated_header_or_payload_is_an_error() {
        let error = read_frame(&mut [0u8, 0].as_slice(), 10).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        let error = read_frame(&mut [0u8, 0, 0, 5, 1, 2].as_slice(), 10)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }
}
