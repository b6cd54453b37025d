# deploy/terraform/cloud-init: renders deploy/cloud-init.yaml for the cloud modules (aws,
# azure), so the template's variables, their checks and the choice between deb_url and
# git_url live in one place. Not applied on its own.

terraform {
  required_version = ">= 1.5"
}

output "user_data" {
  description = "The cloud-config that installs doppel on a fresh Debian 12 or 13 VM."
  value = templatefile("${path.module}/../../cloud-init.yaml", {
    deb_url     = var.deb_url
    deb_sha256  = var.deb_sha256
    git_url     = var.git_url
    git_ref     = var.git_ref
    domain      = var.domain
    data_device = join(" ", var.data_device_paths)
  })

  precondition {
    condition     = (var.deb_url != "") != (var.git_url != "")
    error_message = "Set exactly one of deb_url (a built doppel package) and git_url (a doppel repository): the VM installs doppel from it."
  }
}
