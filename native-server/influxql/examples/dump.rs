fn main() {
    let q = std::env::args().nth(1).unwrap();
    println!("{:#?}", linegate_influxql::parse(&q));
}
