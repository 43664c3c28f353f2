# Check a delegation from the root, with no AWS credentials.
data "route53delegation_check" "api" {
  name = "api.example.com"
  # Optional: the servers it must be delegated to.
  expected_name_servers = [
    "ns-1.awsdns-01.com",
    "ns-2.awsdns-02.net",
    "ns-3.awsdns-03.org",
    "ns-4.awsdns-04.co.uk",
  ]
}

output "api_delegation" {
  value = data.route53delegation_check.api.status # healthy, broken or unknown
}
