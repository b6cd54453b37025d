# Inputs of the Azure module. Required: location, ssh_public_key, ssh_allowed_cidrs, and one
# of deb_url or git_url (how doppel reaches the VM; see deploy/cloud-init.yaml).

variable "location" {
  description = "Azure region, e.g. westeurope."
  type        = string
}

variable "subscription_id" {
  description = "Azure subscription; null: ARM_SUBSCRIPTION_ID or the Azure CLI's current one."
  type        = string
  default     = null
}

variable "name" {
  description = "Name of the VM and prefix of the other resources."
  type        = string
  default     = "doppel"
}

variable "resource_group_name" {
  description = "Resource group created for doppel's resources."
  type        = string
  default     = "doppel"
}

variable "vm_size" {
  description = "VM size. Builds and dynos share it: 2 vCPUs and 4 GiB at least."
  type        = string
  default     = "Standard_B2ms"
}

variable "debian_version" {
  description = "Debian release of the VM: 12 (bookworm) or 13 (trixie)."
  type        = number
  default     = 12
  validation {
    condition     = contains([12, 13], var.debian_version)
    error_message = "debian_version must be 12 or 13."
  }
}

variable "admin_username" {
  description = "The admin's login on the VM."
  type        = string
  default     = "debian"
}

variable "ssh_public_key" {
  description = "OpenSSH public key of the admin."
  type        = string
}

variable "ssh_allowed_cidrs" {
  description = "Networks allowed to reach SSH (port 22), e.g. [\"203.0.113.0/24\"]; empty: no SSH."
  type        = list(string)
}

variable "domain" {
  description = "Platform domain (API at https://<domain>, apps at https://<app>.<domain>). Empty: localhost, reachable only on the VM."
  type        = string
  default     = ""
}

variable "dns_zone_name" {
  description = "Azure DNS zone holding <domain> (the domain itself or a parent); null: make the records yourself (see the dns_records output)."
  type        = string
  default     = null
}

variable "dns_zone_resource_group" {
  description = "Resource group of dns_zone_name."
  type        = string
  default     = null
}

variable "address_space" {
  description = "Address range of the virtual network; the VM's subnet is its first /24."
  type        = string
  default     = "10.42.0.0/16"
}

variable "os_disk_gb" {
  description = "OS disk size: Debian, the Docker engine's images (stack, releases) and build scratch space."
  type        = number
  default     = 64
}

variable "data_disk_gb" {
  description = "Data disk size, mounted at /var/lib/doppel: database, git repositories, build caches, CA."
  type        = number
  default     = 64
}

variable "disk_type" {
  description = "Storage type of both disks."
  type        = string
  default     = "StandardSSD_LRS"
}

variable "disk_encryption_set_id" {
  description = "Disk encryption set (customer-managed key) for both disks; null: platform-managed keys."
  type        = string
  default     = null
}

variable "encryption_at_host" {
  description = "Encrypt temp disk and caches on the host too; the subscription needs the EncryptionAtHost feature registered."
  type        = bool
  default     = false
}

variable "data_device_paths" {
  description = "Where the data disk (LUN 0) appears on the VM, for cloud-init; null: Azure's udev links for SCSI and NVMe."
  type        = list(string)
  default     = null
}

variable "deb_url" {
  description = "URL of a doppel_<version>_amd64.deb built with deploy/package.sh; the VM downloads and installs it."
  type        = string
  default     = ""
}

variable "deb_sha256" {
  description = "SHA-256 of the package at deb_url (sha256sum doppel_*.deb); empty: not checked."
  type        = string
  default     = ""
}

variable "git_url" {
  description = "Instead of deb_url: a git repository of doppel; the VM builds the package (Rust through rustup)."
  type        = string
  default     = ""
}

variable "git_ref" {
  description = "Branch or tag of git_url; empty: its default branch."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
