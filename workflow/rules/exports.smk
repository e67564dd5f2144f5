# The output formats of an applied review, one rule per entry of zsc.sorting.exports.EXPORTS
# (sort_camtrap_dp, sort_reviewed_detections, sort_frame_labels): a new format is a new entry there,
# not a new rule here.


for export in EXPORTS.values():

    rule:
        name:
            f"sort_{export.name}"
        input:
            unpack(get_export_inputs(export)),
        output:
            (
                directory(export.output)
                if export.directory
                else (
                    report(export.output, caption=export.caption, category="Sort runs", subcategory="{run}")
                    if export.caption
                    else export.output
                )
            ),
        log:
            layout.sort_log(export.name),
        conda:
            "../envs/zsc.yaml"
        params:
            export=export.name,
            context=get_export_context(export),
        script:
            "../scripts/sort_export.py"
