use super::*;

#[test]
fn every_codec_round_trips_and_incompressible_data_goes_raw() {
    let text = b"the quick brown fox jumps over the lazy dog ".repeat(500);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            // xorshift64*: incompressible enough for any codec.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect();
    for codec in [Codec::Zstd, Codec::Gzip] {
        let (used, wire) = compress(codec, 1, &text).unwrap().expect("text compresses");
        assert_eq!(used, codec);
        assert!(wire.len() < text.len() / 10);
        let mut out = Vec::new();
        decompress(used, &wire, text.len(), &mut out).unwrap();
        assert_eq!(out, text);
        assert!(
            compress(codec, 1, &noise).unwrap().is_none(),
            "{codec}: noise goes raw"
        );
        // Text after a noisy start is judged by the probe, and goes raw.
        let mut mixed = noise.clone();
        mixed.extend(text.repeat(10));
        assert!(compress(codec, 1, &mixed).unwrap().is_none());
    }
    assert!(compress(Codec::None, 1, &text).unwrap().is_none());
}

#[test]
fn decoding_refuses_more_or_less_than_announced() {
    let text = vec![b'a'; 10_000];
    for codec in [Codec::Zstd, Codec::Gzip] {
        let (used, wire) = compress(codec, 1, &text).unwrap().unwrap();
        let mut out = Vec::new();
        assert!(decompress(used, &wire, 9_999, &mut out).is_err(), "{codec}");
        assert!(
            decompress(used, &wire, 10_001, &mut out).is_err(),
            "{codec}"
        );
        assert!(
            decompress(used, &wire[..wire.len() / 2], 10_000, &mut out).is_err(),
            "{codec}"
        );
    }
}
