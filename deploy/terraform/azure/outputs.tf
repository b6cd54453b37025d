# What the admin needs after `terraform apply`.

output "public_ip" {
  description = "The VM's fixed public address."
  value       = azurerm_public_ip.doppel.ip_address
}

output "private_ip" {
  description = "The VM's address inside its virtual network."
  value       = azurerm_network_interface.doppel.private_ip_address
}

output "ssh" {
  description = "Log in to the VM."
  value       = "ssh ${var.admin_username}@${azurerm_public_ip.doppel.ip_address}"
}

output "api_url" {
  description = "The platform API and git host; DOPPEL_HOST for the CLI."
  value       = var.domain == "" ? "https://localhost (on the VM only: set domain)" : "https://${var.domain}"
}

output "dns_records" {
  description = "The A records the platform needs (made in Azure DNS when dns_zone_name is set)."
  value       = var.domain == "" ? [] : ["${var.domain} A ${azurerm_public_ip.doppel.ip_address}", "*.${var.domain} A ${azurerm_public_ip.doppel.ip_address}"]
}

output "admin_token" {
  description = "How to read the first admin's API token once doppel has started."
  value       = "ssh ${var.admin_username}@${azurerm_public_ip.doppel.ip_address} sudo cat /var/lib/doppel/admin-token"
}
