fn main() { service_order_gateway::hello(); }
