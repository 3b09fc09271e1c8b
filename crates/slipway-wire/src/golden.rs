//! Golden bytes: every message of one fixed session, byte for byte, as
//! `docs/PROTOCOL.md` lists them ("Test vectors"). A change of encoding,
//! of a label or of the tag construction fails here, not only a round
//! trip through the same (changed) code.

use crate::{
    Ack, ClientHello, Codec, End, ErrorCode, ErrorMessage, FrameHeader, Keys, ServerAuth,
    ServerHello, VERSION, frame_digest, hex,
};

/// The fixed inputs of the session (also in `docs/PROTOCOL.md`).
const SECRET: &[u8] = b"slipway golden secret";
const SERVER_NONCE: [u8; 32] = [0x11; 32];
const CLIENT_NONCE: [u8; 32] = [0x22; 32];
const CONTENT: &[u8] = b"hello, slipway";
/// `CONTENT.len()`, as the frame header carries it.
const LEN: u32 = 14;

fn bytes(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    write(&mut out);
    hex(&out)
}

#[test]
fn one_session_byte_for_byte() {
    let keys = Keys::new(Some(SECRET));
    let hello = ServerHello {
        version: VERSION,
        flags: 0,
        frame_size: 4 << 20,
        size: Some(CONTENT.len() as u64),
        mode: 0o100_755,
        nonce: SERVER_NONCE,
    };
    let hello_bytes = hello.to_bytes();
    assert_eq!(
        hex(&hello_bytes),
        "534c57590001000000400000000000000000000e000081ed\
         1111111111111111111111111111111111111111111111111111111111111111"
    );

    let client = ClientHello {
        version: VERSION,
        flags: 0,
        nonce: CLIENT_NONCE,
        resume_from: 0,
        proof: keys.client_proof(&hello_bytes, &CLIENT_NONCE, 0),
    };
    assert_eq!(bytes(|b| client.write(b).unwrap()), CLIENT_HELLO);

    let auth = ServerAuth {
        proof: keys.server_proof(&SERVER_NONCE, &CLIENT_NONCE),
    };
    assert_eq!(bytes(|b| auth.write(b).unwrap()), AUTH);

    let session = keys.session(&SERVER_NONCE, &CLIENT_NONCE);
    assert_eq!(CONTENT.len(), LEN as usize);
    let digest = frame_digest(CONTENT);
    let frame = FrameHeader {
        index: 0,
        offset: 0,
        raw_len: LEN,
        codec: Codec::None,
        wire_len: LEN,
        digest,
        mac: session.frame_mac(0, 0, LEN, &digest),
    };
    assert_eq!(hex(&frame.to_bytes()), FRAME);

    let sha256: [u8; 32] = {
        use sha2::Digest as _;
        sha2::Sha256::digest(CONTENT).into()
    };
    let end = End {
        total_len: CONTENT.len() as u64,
        frames: 1,
        sha256,
        mac: session.end_mac(CONTENT.len() as u64, 1, &sha256),
    };
    assert_eq!(hex(&end.to_bytes()), END);

    let ack = Ack {
        sha256,
        mac: session.ack_mac(&sha256),
    };
    assert_eq!(bytes(|b| ack.write(b).unwrap()), ACK);

    let error = ErrorMessage {
        code: ErrorCode::Auth,
        message: "bad proof".to_owned(),
    };
    assert_eq!(bytes(|b| error.write(b).unwrap()), ERROR);
}

const CLIENT_HELLO: &str = "534c5759000100002222222222222222222222222222222222222222222222222222222222222222000000000000000091f43a90dab3b8c971c3c90f48f0479a5d455a625c981443e2a6e3f95d1960eb";
const AUTH: &str = "056b18d5c38904214db8019db55964858b4ca315ae2420fce2ddc72f65acf358fd";
const FRAME: &str = "01000000000000000000000000000000000000000e000000000e66c9565eea8812aab8f84c6035990dc17742644527f7d36cffe1f7e50bda9f565d722a441f02bdba9a80e4913d82d56a0fe440fa2a52bea8addce63cf5fc5a29";
const END: &str = "02000000000000000e0000000000000001c4ef5b23a5191f1a048f08d176e255f97f73bd9788f260c4acad45174a43d15db553e2bb7498f9f5c7673bf3fef58a86bbd2e369a3b721acea079af09b10ece9";
const ACK: &str = "04c4ef5b23a5191f1a048f08d176e255f97f73bd9788f260c4acad45174a43d15d584138b8a945671b477998886df3b0254f98d17e9eaa0e256e9ba54e3762147a";
const ERROR: &str = "03000100096261642070726f6f66";

/// The store's side of the same artifact: the announced producer's proof
/// (announcement nonce 32 bytes of `0x33`), the content as a stored zstd
/// frame, and the index of that one-frame copy.
#[test]
fn the_store_byte_for_byte() {
    const ANNOUNCEMENT_NONCE: [u8; 32] = [0x33; 32];
    let keys = Keys::new(Some(SECRET));
    let proof = keys.announced_server_proof(&SERVER_NONCE, &CLIENT_NONCE, &ANNOUNCEMENT_NONCE);
    assert_eq!(hex(&proof), ANNOUNCED_AUTH_PROOF);

    let mut stored = Vec::new();
    crate::zstd_raw_frame(CONTENT, &mut stored);
    assert_eq!(hex(&stored), STORED_FRAME);

    let session = keys.store_session(&ANNOUNCEMENT_NONCE);
    let digest = frame_digest(CONTENT);
    let sha256: [u8; 32] = {
        use sha2::Digest as _;
        sha2::Sha256::digest(CONTENT).into()
    };
    let index = crate::Index {
        frame_size: 4 << 20,
        mode: 0o100_755,
        frames: vec![crate::IndexEntry {
            stored_at: 0,
            stored_len: u32::try_from(stored.len()).unwrap(),
            offset: 0,
            raw_len: LEN,
            digest,
            mac: session.frame_mac(0, 0, LEN, &digest),
        }],
        total_len: CONTENT.len() as u64,
        sha256,
    };
    assert_eq!(hex(&index.to_bytes(&session)), INDEX);
}

const ANNOUNCED_AUTH_PROOF: &str =
    "8c7a8180db7db471d3280ca10682ec385dfea266dfdb017d6b42a60828f01e6d";
const STORED_FRAME: &str = "28b52ffda00e00000071000068656c6c6f2c20736c6970776179";
const INDEX: &str = "534c57580001000000400000000081ed000000000000000100000000000000000000001a00000000000000000000000e66c9565eea8812aab8f84c6035990dc17742644527f7d36cffe1f7e50bda9f5690ac1c23cce7a96518d356a0fa10d6fe6f93ef2e68dc4ef59f2e2b85562fd2bd000000000000000ec4ef5b23a5191f1a048f08d176e255f97f73bd9788f260c4acad45174a43d15d5e0e5b91e0e9904fe6f302f7f5368bbfdd2ce4cb0267725c454eafb16ea63cd91f93a678a446e6b0205e66bb245b61aaf88a6b43fa204f3537dfc0c6d5408b7a";
