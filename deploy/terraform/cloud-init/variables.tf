# The variables of deploy/cloud-init.yaml (see its header), checked before they reach the VM.

variable "deb_url" {
  description = "URL of a doppel_<version>_amd64.deb built with deploy/package.sh; the VM downloads and installs it."
  type        = string
  default     = ""
  validation {
    condition     = !can(regex("['\\s]", var.deb_url))
    error_message = "deb_url must not contain quotes or spaces."
  }
}

variable "deb_sha256" {
  description = "SHA-256 of the package at deb_url (sha256sum doppel_*.deb); empty: not checked."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^([0-9a-f]{64})?$", var.deb_sha256))
    error_message = "deb_sha256 must be 64 lower-case hex digits, or empty."
  }
}

variable "git_url" {
  description = "Instead of deb_url: a git repository of doppel; the VM builds the package (Rust through rustup)."
  type        = string
  default     = ""
  validation {
    condition     = !can(regex("['\\s]", var.git_url))
    error_message = "git_url must not contain quotes or spaces."
  }
}

variable "git_ref" {
  description = "Branch or tag of git_url; empty: its default branch."
  type        = string
  default     = ""
  validation {
    condition     = !can(regex("['\\s]", var.git_ref))
    error_message = "git_ref must not contain quotes or spaces."
  }
}

variable "domain" {
  description = "Platform domain (API at https://<domain>, apps at https://<app>.<domain>). Empty: localhost, reachable only on the VM."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)*[a-z0-9-]*$", var.domain))
    error_message = "domain must be a lower-case DNS name such as paas.example.com."
  }
}

variable "data_device_paths" {
  description = "Where the data disk may appear on the VM; the first that shows up is mounted at /var/lib/doppel. Empty: no data disk."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for p in var.data_device_paths : can(regex("^/dev/[^'\\s]+$", p))])
    error_message = "data_device_paths must be paths under /dev without quotes or spaces."
  }
}
