Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  T.out("dead_pid", send(:c.pid(0, 999, 0), :hi))
  T.out("name_node", send({:nobody, node()}, :hi))
  try do
    send(:nobody, :hi)
  rescue
    ArgumentError -> T.out("unregistered_name", :badarg)
  end
end)
T.done()
