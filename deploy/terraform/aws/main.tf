# doppel on one EC2 instance: Debian's official AMI, a security group for 22/80/443, a fixed
# public address (an Elastic IP on the instance's network interface, so it is there from the
# first boot), an encrypted EBS data volume that cloud-init mounts at /var/lib/doppel, and
# optionally the Route 53 records <domain> and *.<domain>. user_data: deploy/cloud-init.yaml, rendered by ../cloud-init.

data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"] # Debian's own account: https://wiki.debian.org/Cloud/AmazonEC2Image
  filter {
    name   = "name"
    values = ["debian-${var.debian_version}-amd64-*"]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

data "aws_vpc" "default" {
  count   = var.subnet_id == null ? 1 : 0
  default = true
}

data "aws_subnets" "default" {
  count = var.subnet_id == null ? 1 : 0
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default[0].id]
  }
  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

data "aws_subnet" "selected" {
  id = var.subnet_id != null ? var.subnet_id : sort(data.aws_subnets.default[0].ids)[0]
}

module "cloud_init" {
  source     = "../cloud-init"
  deb_url    = var.deb_url
  deb_sha256 = var.deb_sha256
  git_url    = var.git_url
  git_ref    = var.git_ref
  domain     = var.domain
  data_device_paths = coalesce(var.data_device_paths, [
    # Nitro instances: NVMe, named by the volume id without its dash.
    "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${replace(aws_ebs_volume.data.id, "-", "")}",
    "/dev/xvdf",
    "/dev/sdf",
  ])
}

resource "aws_key_pair" "admin" {
  key_name_prefix = "${var.name}-"
  public_key      = var.ssh_public_key
}

resource "aws_security_group" "doppel" {
  name_prefix = "${var.name}-"
  description = "doppel: SSH from the admin networks, HTTP and HTTPS from anywhere"
  vpc_id      = data.aws_subnet.selected.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

# The rules are resources of their own (not inline blocks), one per port and address family.
resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = toset(var.ssh_allowed_cidrs)
  security_group_id = aws_security_group.doppel.id
  description       = "SSH from an admin network"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = can(cidrnetmask(each.value)) ? each.value : null
  cidr_ipv6         = can(cidrnetmask(each.value)) ? null : each.value
}

locals {
  public_ingress = {
    "http-ipv4"  = { port = 80, cidr_ipv4 = "0.0.0.0/0", cidr_ipv6 = null, what = "HTTP to the doppel router" }
    "http-ipv6"  = { port = 80, cidr_ipv4 = null, cidr_ipv6 = "::/0", what = "HTTP to the doppel router" }
    "https-ipv4" = { port = 443, cidr_ipv4 = "0.0.0.0/0", cidr_ipv6 = null, what = "HTTPS to the doppel router: API, git, apps" }
    "https-ipv6" = { port = 443, cidr_ipv4 = null, cidr_ipv6 = "::/0", what = "HTTPS to the doppel router: API, git, apps" }
  }
}

resource "aws_vpc_security_group_ingress_rule" "public" {
  #checkov:skip=CKV_AWS_260:doppel is a public web platform; its router takes every app's plain HTTP on port 80 and redirects it to HTTPS
  for_each          = local.public_ingress
  security_group_id = aws_security_group.doppel.id
  description       = each.value.what
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr_ipv4
  cidr_ipv6         = each.value.cidr_ipv6
}

resource "aws_vpc_security_group_egress_rule" "all" {
  for_each          = { "ipv4" = ["0.0.0.0/0", null], "ipv6" = [null, "::/0"] }
  security_group_id = aws_security_group.doppel.id
  description       = "Debian archive, package registries for builds, DNS, NTP"
  ip_protocol       = "-1"
  cidr_ipv4         = each.value[0]
  cidr_ipv6         = each.value[1]
}

resource "aws_network_interface" "doppel" {
  description     = "${var.name}: primary interface"
  subnet_id       = data.aws_subnet.selected.id
  security_groups = [aws_security_group.doppel.id]
}

resource "aws_eip" "doppel" {
  domain            = "vpc"
  network_interface = aws_network_interface.doppel.id
  tags              = { Name = var.name }
}

resource "aws_instance" "doppel" {
  #checkov:skip=CKV2_AWS_41:doppel calls no AWS API; an instance profile would only widen what a compromised VM can reach
  ami           = data.aws_ami.debian.id
  instance_type = var.instance_type
  key_name      = aws_key_pair.admin.key_name
  user_data     = module.cloud_init.user_data
  monitoring    = true
  ebs_optimized = true

  network_interface {
    network_interface_id = aws_network_interface.doppel.id
    device_index         = 0
  }

  # IMDSv2 only, one hop: containers (builds, dynos) cannot reach the metadata service.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.root_volume_gb
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

  tags = { Name = var.name }

  lifecycle {
    # A newer Debian AMI or an edited cloud-init must not replace a running platform.
    ignore_changes = [ami, user_data]
  }

  depends_on = [aws_eip.doppel]
}

resource "aws_ebs_volume" "data" {
  availability_zone = data.aws_subnet.selected.availability_zone
  size              = var.data_volume_gb
  type              = "gp3"
  encrypted         = true
  kms_key_id        = var.kms_key_arn
  tags              = { Name = "${var.name}-data" }
}

resource "aws_volume_attachment" "data" {
  device_name                    = "/dev/sdf"
  volume_id                      = aws_ebs_volume.data.id
  instance_id                    = aws_instance.doppel.id
  stop_instance_before_detaching = true
}

# <domain> and *.<domain>, both to the Elastic IP.
resource "aws_route53_record" "platform" {
  for_each = var.route53_zone_id == null ? toset([]) : toset([var.domain, "*.${var.domain}"])
  zone_id  = var.route53_zone_id
  name     = each.value
  type     = "A"
  ttl      = 300
  records  = [aws_eip.doppel.public_ip]

  lifecycle {
    precondition {
      condition     = var.domain != ""
      error_message = "route53_zone_id needs domain: the records are <domain> and *.<domain>."
    }
  }
}
