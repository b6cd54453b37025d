# doppel on one Azure VM: Debian's image, a virtual network whose subnet has a network security
# group for 22/80/443, a static public address, an encrypted managed data disk that cloud-init
# mounts at /var/lib/doppel, and optionally the Azure DNS records <domain> and *.<domain>.
# custom_data: deploy/cloud-init.yaml, rendered by ../cloud-init.

locals {
  tags = merge({ "app" = "doppel" }, var.tags)
  # Record names relative to the zone: "@" and "*" when the domain is the zone itself.
  dns_label    = var.dns_zone_name == null || var.domain == var.dns_zone_name ? "@" : trimsuffix(var.domain, ".${coalesce(var.dns_zone_name, "-")}")
  dns_wildcard = local.dns_label == "@" ? "*" : "*.${local.dns_label}"
}

module "cloud_init" {
  source     = "../cloud-init"
  deb_url    = var.deb_url
  deb_sha256 = var.deb_sha256
  git_url    = var.git_url
  git_ref    = var.git_ref
  domain     = var.domain
  data_device_paths = coalesce(var.data_device_paths, [
    "/dev/disk/azure/scsi1/lun0",    # SCSI data disks, udev rules of Azure's Linux agent
    "/dev/disk/azure/data/by-lun/0", # NVMe data disks, azure-vm-utils
  ])
}

resource "azurerm_resource_group" "doppel" {
  name     = var.resource_group_name
  location = var.location
  tags     = local.tags
}

resource "azurerm_virtual_network" "doppel" {
  name                = "${var.name}-vnet"
  resource_group_name = azurerm_resource_group.doppel.name
  location            = azurerm_resource_group.doppel.location
  address_space       = [var.address_space]
  tags                = local.tags
}

resource "azurerm_subnet" "doppel" {
  name                 = "${var.name}-subnet"
  resource_group_name  = azurerm_resource_group.doppel.name
  virtual_network_name = azurerm_virtual_network.doppel.name
  address_prefixes     = [cidrsubnet(var.address_space, 24 - tonumber(split("/", var.address_space)[1]), 0)]
}

resource "azurerm_network_security_group" "doppel" {
  name                = "${var.name}-nsg"
  resource_group_name = azurerm_resource_group.doppel.name
  location            = azurerm_resource_group.doppel.location
  tags                = local.tags
}

resource "azurerm_network_security_rule" "ssh" {
  count                       = length(var.ssh_allowed_cidrs) > 0 ? 1 : 0
  name                        = "ssh-from-admins"
  description                 = "SSH from the admin networks"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "22"
  source_address_prefixes     = var.ssh_allowed_cidrs
  destination_address_prefix  = "*"
  resource_group_name         = azurerm_resource_group.doppel.name
  network_security_group_name = azurerm_network_security_group.doppel.name
}

resource "azurerm_network_security_rule" "http" {
  #checkov:skip=CKV_AZURE_160:doppel is a public web platform; its router takes every app's plain HTTP on port 80 and redirects it to HTTPS
  name                        = "http"
  description                 = "HTTP to the doppel router"
  priority                    = 110
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "80"
  source_address_prefix       = "Internet"
  destination_address_prefix  = "*"
  resource_group_name         = azurerm_resource_group.doppel.name
  network_security_group_name = azurerm_network_security_group.doppel.name
}

resource "azurerm_network_security_rule" "https" {
  name                        = "https"
  description                 = "HTTPS to the doppel router: API, git, dashboard, apps"
  priority                    = 120
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "443"
  source_address_prefix       = "Internet"
  destination_address_prefix  = "*"
  resource_group_name         = azurerm_resource_group.doppel.name
  network_security_group_name = azurerm_network_security_group.doppel.name
}

resource "azurerm_subnet_network_security_group_association" "doppel" {
  subnet_id                 = azurerm_subnet.doppel.id
  network_security_group_id = azurerm_network_security_group.doppel.id
}

resource "azurerm_public_ip" "doppel" {
  name                = "${var.name}-ip"
  resource_group_name = azurerm_resource_group.doppel.name
  location            = azurerm_resource_group.doppel.location
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

resource "azurerm_network_interface" "doppel" {
  #checkov:skip=CKV_AZURE_119:the VM is the platform's public entry point; its router must be reachable on 80 and 443
  name                = "${var.name}-nic"
  resource_group_name = azurerm_resource_group.doppel.name
  location            = azurerm_resource_group.doppel.location
  tags                = local.tags

  ip_configuration {
    name                          = "primary"
    subnet_id                     = azurerm_subnet.doppel.id
    private_ip_address_allocation = "Dynamic"
    public_ip_address_id          = azurerm_public_ip.doppel.id
  }
}

resource "azurerm_linux_virtual_machine" "doppel" {
  name                            = var.name
  resource_group_name             = azurerm_resource_group.doppel.name
  location                        = azurerm_resource_group.doppel.location
  size                            = var.vm_size
  admin_username                  = var.admin_username
  disable_password_authentication = true
  allow_extension_operations      = false
  encryption_at_host_enabled      = var.encryption_at_host
  network_interface_ids           = [azurerm_network_interface.doppel.id]
  custom_data                     = base64encode(module.cloud_init.user_data)
  tags                            = local.tags

  admin_ssh_key {
    username   = var.admin_username
    public_key = var.ssh_public_key
  }

  os_disk {
    name                   = "${var.name}-os"
    caching                = "ReadWrite"
    storage_account_type   = var.disk_type
    disk_size_gb           = var.os_disk_gb
    disk_encryption_set_id = var.disk_encryption_set_id
  }

  source_image_reference {
    publisher = "Debian"
    offer     = "debian-${var.debian_version}"
    sku       = "${var.debian_version}-gen2"
    version   = "latest"
  }

  # Serial console and cloud-init's output in the portal, kept in a managed storage account.
  boot_diagnostics {}

  lifecycle {
    # custom_data and the image force a new VM: an edited cloud-init or a newer image must
    # not replace a running platform.
    ignore_changes = [custom_data, source_image_reference]
  }
}

resource "azurerm_managed_disk" "data" {
  name                          = "${var.name}-data"
  resource_group_name           = azurerm_resource_group.doppel.name
  location                      = azurerm_resource_group.doppel.location
  storage_account_type          = var.disk_type
  create_option                 = "Empty"
  disk_size_gb                  = var.data_disk_gb
  disk_encryption_set_id        = var.disk_encryption_set_id
  public_network_access_enabled = false
  network_access_policy         = "DenyAll"
  tags                          = local.tags
}

resource "azurerm_virtual_machine_data_disk_attachment" "data" {
  managed_disk_id    = azurerm_managed_disk.data.id
  virtual_machine_id = azurerm_linux_virtual_machine.doppel.id
  lun                = 0
  # No host write cache: SQLite's fsyncs must reach the disk.
  caching = "None"
}

# <domain> and *.<domain>, both to the public IP.
resource "azurerm_dns_a_record" "platform" {
  for_each            = var.dns_zone_name == null ? toset([]) : toset([local.dns_label, local.dns_wildcard])
  name                = each.value
  zone_name           = var.dns_zone_name
  resource_group_name = var.dns_zone_resource_group
  ttl                 = 300
  records             = [azurerm_public_ip.doppel.ip_address]
  tags                = local.tags

  lifecycle {
    precondition {
      condition     = var.domain != "" && (var.domain == var.dns_zone_name || endswith(var.domain, ".${var.dns_zone_name}"))
      error_message = "dns_zone_name must be domain itself or a parent of it (and domain must be set)."
    }
    precondition {
      condition     = var.dns_zone_resource_group != null
      error_message = "dns_zone_name needs dns_zone_resource_group."
    }
  }
}
