# What the admin needs after `terraform apply`.

output "public_ip" {
  description = "The VM's fixed public address (Elastic IP)."
  value       = aws_eip.doppel.public_ip
}

output "private_ip" {
  description = "The VM's address inside its VPC."
  value       = aws_network_interface.doppel.private_ip
}

output "ssh" {
  description = "Log in to the VM (Debian's user on AWS is 'admin')."
  value       = "ssh admin@${aws_eip.doppel.public_ip}"
}

output "api_url" {
  description = "The platform API and git host; DOPPEL_HOST for the CLI."
  value       = var.domain == "" ? "https://localhost (on the VM only: set domain)" : "https://${var.domain}"
}

output "dns_records" {
  description = "The A records the platform needs (made in Route 53 when route53_zone_id is set)."
  value       = var.domain == "" ? [] : ["${var.domain} A ${aws_eip.doppel.public_ip}", "*.${var.domain} A ${aws_eip.doppel.public_ip}"]
}

output "admin_token" {
  description = "How to read the first admin's API token once doppel has started."
  value       = "ssh admin@${aws_eip.doppel.public_ip} sudo cat /var/lib/doppel/admin-token"
}
