//! A JSON response body written straight from its type with serde.
//!
//! poem-openapi's `Json<T>` renders `T` into a `serde_json::Value` first (a map, and a string
//! for every key and value) and then writes that: on a route answered tens of thousands of
//! times a second, those allocations are most of the route's own cost. [`SerdeJson`] writes
//! the same JSON from `T`'s `Serialize` and documents itself exactly as `Json<T>` does, so the
//! specification does not change. `T` derives both `Object` and `Serialize`, with no renames
//! in either, and a test per type checks that both render the same JSON. One difference in
//! the text, not the JSON: keys come in the fields' order, where the `Value` path sorted them
//! (a JSON object is unordered; no client may depend on either).

use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::types::ToJSON;
use poem_openapi::ApiResponse;

/// `Json<T>` in the specification; `T`'s `Serialize` on the wire.
pub struct SerdeJson<T>(pub T);

impl<T: ToJSON + serde::Serialize + Send> IntoResponse for SerdeJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .content_type("application/json; charset=utf-8")
                .body(body),
            // Not for the plain structs this is used with; poem-openapi's path, should it be.
            Err(_) => Json(self.0).into_response(),
        }
    }
}

impl<T: ToJSON + serde::Serialize + Send> ApiResponse for SerdeJson<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as ApiResponse>::register(registry);
    }
}
