# Inputs of the AWS module. Required: region, ssh_public_key, ssh_allowed_cidrs, and one of
# deb_url or git_url (how doppel reaches the VM; see deploy/cloud-init.yaml).

variable "region" {
  description = "AWS region, e.g. eu-central-1."
  type        = string
}

variable "name" {
  description = "Name of the instance and prefix of the other resources."
  type        = string
  default     = "doppel"
}

variable "instance_type" {
  description = "Instance size. Builds and dynos share it: 2 vCPUs and 4 GiB at least."
  type        = string
  default     = "t3.medium"
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

variable "domain" {
  description = "Platform domain (API at https://<domain>, apps at https://<app>.<domain>). Empty: localhost, reachable only on the VM."
  type        = string
  default     = ""
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone to hold the <domain> and *.<domain> A records; null: make the records yourself (see the dns_records output)."
  type        = string
  default     = null
}

variable "ssh_public_key" {
  description = "OpenSSH public key of the admin (log in as 'admin', Debian's user on AWS)."
  type        = string
}

variable "ssh_allowed_cidrs" {
  description = "Networks allowed to reach SSH (port 22), e.g. [\"203.0.113.0/24\"]; empty: no SSH."
  type        = list(string)
}

variable "subnet_id" {
  description = "Subnet of the instance (it needs a route to the internet); null: a default subnet of the default VPC."
  type        = string
  default     = null
}

variable "root_volume_gb" {
  description = "Root disk size: Debian, the Docker engine's images (stack, releases) and build scratch space."
  type        = number
  default     = 40
}

variable "data_volume_gb" {
  description = "Data disk size, mounted at /var/lib/doppel: database, git repositories, build caches, CA."
  type        = number
  default     = 50
}

variable "kms_key_arn" {
  description = "KMS key encrypting the disks; null: the account's aws/ebs key."
  type        = string
  default     = null
}

variable "data_device_paths" {
  description = "Where the data disk appears on the VM, for cloud-init; null: the NVMe by-id path of the volume, then /dev/xvdf and /dev/sdf."
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
