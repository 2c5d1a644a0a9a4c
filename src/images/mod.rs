//! Image update automation compatible with Flux image policies and setter markers.
