//! `openapi`: prints the API's OpenAPI description, as committed in `infra/openapi.json`
//! (`cargo run -p guichet-local --bin openapi > infra/openapi.json`). A test fails while the
//! committed file differs.

fn main() {
    print!("{}", guichet_local::openapi::document_text());
}
