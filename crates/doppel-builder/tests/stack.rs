//! Integration test: the default stack's images exist (built from Debian's archive when
//! missing) and carry their stack's label.

mod common;

use doppel_docker::ContainerRuntime;

#[tokio::test]
async fn stack_images_exist_and_are_labelled() {
    let rt = common::runtime().await;
    let images = common::stack(&rt).await;
    let name = doppel_builder::StackCatalog::default().default_stack().name;
    let run = rt
        .image_info(&images.run_image)
        .await
        .expect("inspect")
        .expect("run image");
    assert_eq!(
        run.labels.get("doppel.stack").map(String::as_str),
        Some(name)
    );
    let build = rt
        .image_info(&images.build_image)
        .await
        .expect("inspect")
        .expect("build image");
    assert_eq!(
        build.labels.get("doppel.stack").map(String::as_str),
        Some(name)
    );
}
