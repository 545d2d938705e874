//! Micro-benchmarks inside the browser, built only with the `bench` feature
//! (by `bench/run`, never into the npm package): the RESP decoder running
//! as wasm, the whole reply path into JS values, and what one command costs
//! on its way from JS into wasm. JS times the calls; each call does many
//! rounds, so the page's coarse timer does not matter.

use std::cell::RefCell;

use resp::{Decoder, Frame};
use wasm_bindgen::prelude::*;

use super::convert::plain;
use super::encoder::Encoder;
use crate::core::cmd::Cmd;
use crate::core::ReplyKind;

#[wasm_bindgen]
pub struct Micro;

/// Decodes all of `input`, handing each frame to `each`; returns how many.
fn decode_all(
    input: &[u8],
    mut each: impl FnMut(Frame) -> Result<(), JsValue>,
) -> Result<u32, JsValue> {
    let mut decoder = Decoder::new();
    decoder.feed(input);
    let mut frames = 0;
    while let Some(frame) = decoder
        .decode()
        .map_err(|err| JsValue::from(JsError::new(&err.to_string())))?
    {
        each(frame)?;
        frames += 1;
    }
    Ok(frames)
}

#[wasm_bindgen]
impl Micro {
    /// The decoder benchmarks' input: 1 MiB of pipelined replies, the same
    /// bytes as `cargo bench -p resp --bench decode` decodes natively.
    pub fn corpus() -> Vec<u8> {
        resp::corpus::pipelined_replies().0
    }

    /// Decodes `input` into frames `rounds` times; returns the frame count.
    pub fn decode(input: &[u8], rounds: u32) -> Result<u32, JsValue> {
        let mut frames = 0;
        for _ in 0..rounds {
            frames = decode_all(input, |frame| {
                std::hint::black_box(frame);
                Ok(())
            })?;
        }
        Ok(frames)
    }

    /// Decodes `input` and turns every frame into a JS value as `call()`
    /// replies are, `rounds` times; returns the frame count.
    #[wasm_bindgen(js_name = decodeToJs)]
    pub fn decode_to_js(input: &[u8], rounds: u32) -> Result<u32, JsValue> {
        let mut frames = 0;
        for _ in 0..rounds {
            frames = decode_all(input, |frame| {
                std::hint::black_box(plain(frame, &Encoder::Utf8)?);
                Ok(())
            })?;
        }
        Ok(frames)
    }

    /// Reads a command line built in JS (as a command method's builder
    /// makes it: `['GET', key]`) into a command and encodes it into a reused
    /// buffer: one command's trip from JS into wasm, without a socket or a
    /// Promise. Returns the encoded length.
    #[wasm_bindgen(js_name = encodeLine)]
    pub fn encode_line(line: js_sys::Array) -> Result<usize, JsValue> {
        thread_local! {
            static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        let mut cmd = Cmd::new(std::iter::empty::<&[u8]>(), None, ReplyKind::Native);
        for item in line.iter() {
            cmd.push(item.as_string().unwrap_or_default().as_bytes());
        }
        OUT.with(|out| {
            let mut out = out.borrow_mut();
            out.clear();
            cmd.encode(&mut out);
            Ok(out.len())
        })
    }
}
