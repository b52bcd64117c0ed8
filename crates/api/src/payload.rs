//! A JSON response body written straight from its type with serde.
//!
//! poem-openapi's `Json<T>` renders `T` into a `serde_json::Value` first (a map, and a string
//! for every key and value) and then writes that: on a route answered tens of thousands of
//! times a second, those allocations are most of the route's own cost. [`SerdeJson`] writes
//! the same JSON with serde, from `T` or from a view of it that borrows what `T` would own,
//! and documents itself exactly as `Json<T>` does, so the specification does not change. A
//! test per type (or view) checks that both render the same JSON. One difference in the
//! text, not the JSON: keys come in the fields' order, where the `Value` path sorted them (a
//! JSON object is unordered; no client may depend on either).

use crate::middleware::problem_response;
use poem::http::header::CONTENT_TYPE;
use poem::http::HeaderValue;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::types::ToJSON;
use poem_openapi::ApiResponse;
use std::cell::RefCell;
use std::marker::PhantomData;
use tollgate_core::Code;

/// `Json<T>` in the specification; on the wire, the JSON serde writes.
pub struct SerdeJson<T> {
    /// The JSON, or `None` when serde could not write it.
    body: Option<Vec<u8>>,
    spec: PhantomData<fn() -> T>,
}

thread_local! {
    /// Where this thread writes JSON before it is copied into a body of exactly its size.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(1024));
}

/// A buffer that grew past this is given back after use.
const BUFFER_KEEP: usize = 64 * 1024;

impl<T> SerdeJson<T> {
    /// The JSON of `value`: a `T`, or a view of one that renders exactly as the `T` would.
    /// For small bodies: the thread's buffer and the body each hold a copy until it returns.
    pub fn render(value: &impl serde::Serialize) -> Self {
        let body = BUFFER.with(|buffer| {
            // In use further up this thread's stack (a `Serialize` that renders another
            // body): a buffer of its own.
            let Ok(mut buffer) = buffer.try_borrow_mut() else {
                return serde_json::to_vec(value).ok();
            };
            buffer.clear();
            let body = serde_json::to_writer(&mut *buffer, value)
                .ok()
                .map(|()| buffer.to_vec());
            if buffer.capacity() > BUFFER_KEEP {
                *buffer = Vec::with_capacity(1024);
            }
            body
        });
        Self {
            body,
            spec: PhantomData,
        }
    }
}

impl<T: Send> IntoResponse for SerdeJson<T> {
    fn into_response(self) -> Response {
        match self.body {
            Some(body) => Response::builder()
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                )
                .body(body),
            // Not for the plain structs this is used with (serde fails only on maps with
            // non-string keys and on a `Serialize` that fails).
            None => problem_response(Code::Internal, "internal error".into()),
        }
    }
}

impl<T: ToJSON + Send> ApiResponse for SerdeJson<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as ApiResponse>::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_exactly_the_json_and_the_buffer_is_reused() {
        #[derive(serde::Serialize)]
        struct Small<'a> {
            name: &'a str,
        }
        let big = "x".repeat(BUFFER_KEEP * 2);
        for name in ["first", big.as_str(), "second"] {
            let json = SerdeJson::<()>::render(&Small { name });
            let body = json.body.unwrap();
            assert_eq!(body, serde_json::to_vec(&Small { name }).unwrap());
            assert_eq!(body.capacity(), body.len());
        }
        BUFFER.with(|b| assert!(b.borrow().capacity() <= BUFFER_KEEP));
    }
}
